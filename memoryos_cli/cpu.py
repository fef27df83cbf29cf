"""The machine's CPU, as the model runtimes need it: how many threads to give them."""

from __future__ import annotations

import os


def physical_cores() -> int:
    """Physical CPU cores (hyperthreads slow llama.cpp down); logical count as a fallback."""
    try:
        cores: set[tuple[str, str]] = set()
        phys = core = ""
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    phys = value.strip()
                elif key == "core id":
                    core = value.strip()
                    cores.add((phys, core))
        if cores:
            return len(cores)
    except OSError:
        pass
    return max(1, os.cpu_count() or 1)
