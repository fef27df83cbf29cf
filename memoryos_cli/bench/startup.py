"""`bench startup`: seconds from `memoryos chat` starting to its prompt, in a real terminal.

Models load in the background, so this should not depend on the model's size.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from memoryos_cli.bench.metrics import percentile

PROMPT = b"you>"


def time_to_prompt(home: Path, timeout: float = 30.0) -> float:
    """Start `memoryos chat` on a pseudo-terminal; seconds until the prompt shows."""
    exe = Path(sys.executable).parent / "memoryos"
    env = dict(os.environ, MEMORYOS_HOME=str(home), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    master, slave = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "chat"], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                seen += os.read(master, 65536)
                if PROMPT in seen:
                    return time.perf_counter() - started
        raise TimeoutError(f"no prompt within {timeout} s")
    finally:
        os.write(master, b"\x04")
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)


def run_startup(home: Path, runs: int = 7) -> dict[str, Any]:
    times = [time_to_prompt(home) for _ in range(runs)]
    return {
        "runs": runs,
        "time_to_prompt_p50_s": percentile(times, 50),
        "time_to_prompt_max_s": max(times),
        "all_s": times,
    }
