"""Helpers for integration tests: a program in a real pseudo-terminal (as a user types
into `memoryos chat`), an MCP client session through the SDK's stdio client (as a desktop
client talks to `memoryos mcp`), a writer process that starts writing when told (so
several writers really overlap), and the store made by schema version 1."""

from __future__ import annotations

import fcntl
import gzip
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


def memoryos_command() -> str:
    beside = Path(sys.executable).parent / "memoryos"
    found = str(beside) if beside.exists() else shutil.which("memoryos")
    assert found, "the memoryos console script is not installed (pip install -e .)"
    return found


def chat_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of `memoryos chat` in a test terminal: its home and MEMORYOS_* settings."""
    return dict(
        os.environ,
        MEMORYOS_HOME=str(home),
        TERM="xterm",
        COLUMNS="120",
        LINES="40",
        PROMPT_TOOLKIT_NO_CPR="1",
        **settings,
    )


def piped_chat(home: Path, model: Path, lines: list[str], **settings: str) -> list[str]:
    """`memoryos chat` with `model`, each of `lines` piped in as the user's message: its
    answers, one per line said, each whole (a list runs over several lines; it must exit
    0)."""
    chat = subprocess.run(
        [memoryos_command(), "--model", str(model), "chat"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=chat_env(home, **settings),
        timeout=600,
    )
    assert chat.returncode == 0, chat.stderr
    return [f"memoryos: {answer}" for answer in chat.stdout.split("memoryos: ")[1:]]


def chat_in_terminal(home: Path, model: Path, **settings: str) -> Terminal:
    """`memoryos chat` with `model` in a real pseudo-terminal."""
    args = [memoryos_command(), "--model", str(model), "chat"]
    return Terminal(args, chat_env(home, **settings))


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _own_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A program in a pseudo-terminal: what a user types goes in, the screen comes out."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            preexec_fn=_own_terminal,  # so Ctrl-C becomes SIGINT, as in a real terminal
        )
        os.close(slave)
        self.screen = ""
        self.seen = 0  # where the next expect starts looking

    def _read(self, timeout: float) -> bool:
        """Add what the program printed within `timeout` to the screen; False at its end."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
            except OSError:
                return False
        return True

    def expect(self, text: str, timeout: float = 120) -> str:
        """Wait for `text` to appear after what earlier expects matched; return the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            plain = ANSI.sub("", self.screen)
            found = plain.find(text, self.seen)
            if found >= 0:
                self.seen = found + len(text)
                return plain
            if not self._read(0.5):
                break
        tail = ANSI.sub("", self.screen)[-2000:]
        raise AssertionError(f"timed out waiting for {text!r}; screen:\n{tail}")

    def send(self, text: str) -> None:
        """Type `text`; a long one goes in pieces while the screen is read, as the
        program echoes it back and would otherwise stop reading."""
        data = text.encode()
        while data:
            _, writable, _ = select.select([], [self.master], [], 0.1)
            if writable:
                data = data[os.write(self.master, data[:4096]) :]
            self._read(0)

    def paste(self, text: str) -> None:
        """Paste `text` as a terminal does (bracketed paste: newlines do not submit)."""
        self.send(f"\x1b[200~{text}\x1b[201~")

    def close(self, timeout: float = 120) -> int:
        """Wait for the program to exit, reading its output so it never blocks writing."""
        deadline = time.monotonic() + timeout
        try:
            while self.proc.poll() is None and time.monotonic() < deadline:
                if not self._read(0.2):
                    time.sleep(0.1)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                tail = ANSI.sub("", self.screen)[-2000:]
                raise AssertionError(f"still running after {timeout:.0f} s; screen:\n{tail}")
            return self.proc.returncode
        finally:
            os.close(self.master)


@asynccontextmanager
async def mcp_session(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[Any]:
    """An SDK client session with `memoryos mcp` over stdio (call `initialize` first)."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=memoryos_command(),
        args=["mcp", *args],
        env={
            "MEMORYOS_HOME": str(home),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **(env or {}),
        },
    )
    with open(home.parent / "mcp-stderr.log", "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            yield session


def data(result: Any) -> Any:
    assert not result.is_error, result.content[0].text
    return result.structured_content


GATED_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from memoryos_cli.api import Memoryos

    go, n, template = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    halfway = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    mem = Memoryos(llm_model="none")
    mem.embedder.warm()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    for i in range(n):
        mem.add_memory(template.format(i=i), f"reply {i}")
        while halfway is not None and i == n // 2 and not halfway.exists():
            time.sleep(0.01)
    mem.close()
    print("done", flush=True)
    """
)


def gated_writer(
    go: Path, n: int, template: str, env: dict[str, str], halfway: Path | None = None
) -> subprocess.Popen[str]:
    """A process that loads the real embedder, prints "ready", waits for the file `go`,
    then stores `n` exchanges whose user text is `template` formatted with i. Given
    `halfway`, it also waits for that file after its middle exchange: another writer's
    commit then surely falls between its own, however the scheduler orders the processes."""
    extra = [str(halfway)] if halfway is not None else []
    return subprocess.Popen(
        [sys.executable, "-c", GATED_WRITER, str(go), str(n), template, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


V1_FIXTURE = Path(__file__).parents[1] / "fixtures" / "v1.db.gz"


def place_v1_fixture(home: Path) -> Path:
    """Put the store made by schema version 1 (`tests/fixtures/make_v1_db.py`) in `home`."""
    home.mkdir(parents=True)
    db = home / "memoryos.db"
    db.write_bytes(gzip.decompress(V1_FIXTURE.read_bytes()))
    return db


def v1_fixture_memory(home: Path) -> Any:
    """The v1 fixture's owner, opened through the API (no model, hashing embedder)."""
    from memoryos_cli.api import Memoryos
    from memoryos_cli.embed.hashing import HashingEmbedder
    from memoryos_cli.llm.fake import ScriptedLLM

    return Memoryos(
        "fixture_user",
        "fixture_assistant",
        home,
        llm_model=ScriptedLLM(),
        embedder=HashingEmbedder(),
        short_term_capacity=2,
    )
