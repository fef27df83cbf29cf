"""`memoryos chat` in a real pseudo-terminal with real llama.cpp (SmolLM2) and MiniLM:
what is said in one run is recalled in the next."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = ""

    def expect(self, pattern: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            plain = ANSI.sub("", self.screen)
            if re.search(pattern, plain):
                return plain
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        raise AssertionError(f"timed out waiting for {pattern!r}; screen:\n{ANSI.sub('', self.screen)[-2000:]}")

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=120)
        finally:
            os.close(self.master)


def memoryos() -> str:
    return str(Path(sys.executable).parent / "memoryos")


def test_fact_from_one_chat_is_recalled_in_the_next(home: Path, smol_model_path: Path) -> None:
    env = dict(os.environ, MEMORYOS_HOME=str(home), TERM="xterm", COLUMNS="120", LINES="40")
    args = [memoryos(), "--model", str(smol_model_path), "chat"]

    first = Terminal(args, env)
    first.expect(r"you> ")
    first.send("My favourite colour is teal and my dog is called Biscuit.\r")
    first.expect(r"memoryos: .*\n(.|\n)*you> ", timeout=180)
    first.send("\x04")  # Ctrl-D leaves
    assert first.close() == 0

    second = Terminal(args, env)
    second.expect(r"you> ")
    second.send("/search what is my dog called\r")
    screen = second.expect(r"Biscuit(.|\n)*you> ", timeout=120)
    assert "Would recall" in screen or "p1" in screen
    second.send("/exit\r")
    assert second.close() == 0
