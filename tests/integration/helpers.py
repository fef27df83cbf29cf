"""Helpers for integration tests: an MCP client session through the SDK's stdio client
(as a desktop client talks to `memoryos mcp`), a writer process that starts writing when
told (so several writers really overlap), and the store made by schema version 1."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


def memoryos_command() -> str:
    beside = Path(sys.executable).parent / "memoryos"
    found = str(beside) if beside.exists() else shutil.which("memoryos")
    assert found, "the memoryos console script is not installed (pip install -e .)"
    return found


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
    mem = Memoryos(llm_model="none")
    mem.embedder.warm()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    for i in range(n):
        mem.add_memory(template.format(i=i), f"reply {i}")
    mem.close()
    print("done", flush=True)
    """
)


def gated_writer(go: Path, n: int, template: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A process that loads the real embedder, prints "ready", waits for the file `go`,
    then stores `n` exchanges whose user text is `template` formatted with i."""
    return subprocess.Popen(
        [sys.executable, "-c", GATED_WRITER, str(go), str(n), template],
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
