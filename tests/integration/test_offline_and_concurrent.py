"""The paths a user takes, with networking refused, and several writer processes at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections import Counter
from pathlib import Path

import anyio
import pytest
from helpers import data, gated_writer, mcp_session, memoryos_command
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.embed.hashing import HashingEmbedder

pytestmark = pytest.mark.integration
MEMORYOS = memoryos_command()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("memoryos tried to use the network")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)


def test_chat_and_bench_run_with_networking_refused(
    home: Path, smol_model_path: Path, tmp_path: Path, no_network: None
) -> None:
    runner = CliRunner()
    chat = runner.invoke(
        app, ["--model", str(smol_model_path), "chat"], input="My name is Ada.\n/profile\n"
    )
    assert chat.exit_code == 0, chat.output
    assert "memoryos: " in chat.output
    data = tmp_path / "tiny.json"
    data.write_text(
        json.dumps(
            [
                {
                    "sample_id": "t",
                    "conversation": {
                        "speaker_a": "Ada",
                        "speaker_b": "Bo",
                        "session_1_date_time": "3:00 pm on 4 March, 2023",
                        "session_1": [
                            {"speaker": "Ada", "dia_id": "D1:1", "text": "I play the cello."},
                            {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely instrument."},
                        ],
                    },
                    "qa": [
                        {
                            "question": "What does Ada play?",
                            "answer": "cello",
                            "evidence": ["D1:1"],
                            "category": 4,
                        }
                    ],
                }
            ]
        )
    )
    bench = runner.invoke(
        app,
        [
            "--model",
            str(smol_model_path),
            "bench",
            "locomo",
            "--data",
            str(data),
            "--mode",
            "qa",
            "--methods",
            "bm25,memoryos",
            "--json",
            str(tmp_path / "qa.json"),
        ],
    )
    assert bench.exit_code == 0, bench.output
    report = json.loads((tmp_path / "qa.json").read_text())
    assert set(report["methods"]) == {"bm25", "memoryos", "no_memory"}
    assert report["methods"]["memoryos"]["llm_calls_per_answer"] == 1


API_NOTES, MCP_NOTES, CHAT_LINES, CLI_ADDS = 300, 60, 8, 4


def test_chat_mcp_add_and_api_write_the_same_file_at_once(
    home: Path, smol_model_path: Path, tmp_path: Path
) -> None:
    """A scripted `memoryos chat`, an MCP client's `memoryos mcp`, `memoryos add` and an
    API process write one file at the same moment: all warm first, then released together.
    Nothing lost, nothing locked, and the commit order shows the writes interleaved."""
    go = tmp_path / "go"
    # No segment gets hot enough to analyse: this test is about writes, and the chat's exit
    # drain of a dozen segments with SmolLM2 takes minutes (over 5 on a loaded machine).
    # Jobs queued by concurrent writers are covered by test_safety's four-process test.
    no_analysis = {
        "MEMORYOS_MID_TERM_HEAT_THRESHOLD": "1000000",
        "MEMORYOS_EXIT_CONSOLIDATION_JOBS": "0",
    }
    env = dict(os.environ, MEMORYOS_HOME=str(home), MEMORYOS_MAX_ANSWER_TOKENS="8", **no_analysis)
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "env": env}
    # The API writer waits halfway for the MCP's first note: once, on a loaded machine, it
    # committed all 300 notes before the MCP's first call came in.
    mcp_in = tmp_path / "mcp-in"
    api = gated_writer(go, API_NOTES, "api note {i}", env, halfway=mcp_in)
    chat = subprocess.Popen(
        [MEMORYOS, "--model", str(smol_model_path), "chat"], stdin=subprocess.PIPE, **pipes
    )
    chat_lines = "".join(f"chat line {i}\n" for i in range(CHAT_LINES))
    results: dict[str, tuple[str, str]] = {}
    procs = {"api": api, "chat": chat}

    async def mcp_writes() -> None:
        async with mcp_session(home, env=no_analysis) as session:
            await session.initialize()
            data(
                await session.call_tool(
                    "add_memory", {"user_input": "warm", "agent_response": "up"}
                )
            )
            assert await anyio.to_thread.run_sync(api.stdout.readline) == "ready\n"
            go.touch()  # release everyone at once
            # The MCP's first note goes in at once, while the API writer is busy with its 300:
            # started after the CLI processes, it queued behind their imports and the chat's
            # answers for the whole of the API's run on a loaded 2-core machine.
            data(
                await session.call_tool(
                    "add_memory", {"user_input": "mcp note 0", "agent_response": "ok"}
                )
            )
            mcp_in.touch()
            procs["cli"] = subprocess.Popen(
                [
                    "bash",
                    "-c",
                    " & ".join(
                        f"{MEMORYOS} add --user-input 'cli add {i}' --response ok"
                        for i in range(CLI_ADDS)
                    )
                    + " & wait",
                ],
                **pipes,
            )
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(
                    anyio.to_thread.run_sync,
                    lambda: results.update(chat=chat.communicate(chat_lines, timeout=300)),
                )
                for i in range(1, MCP_NOTES):
                    data(
                        await session.call_tool(
                            "add_memory", {"user_input": f"mcp note {i}", "agent_response": "ok"}
                        )
                    )

    try:
        anyio.run(mcp_writes)
        for name in ("api", "cli"):
            results[name] = procs[name].communicate(timeout=300)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, proc in procs.items():
        assert proc.returncode == 0, results[name][1]
        assert "locked" not in results[name][1]
    assert "locked" not in (home.parent / "mcp-stderr.log").read_text()
    with Memoryos(
        settings=None,
        data_storage_path=home,
        llm_model="none",
        embedder=HashingEmbedder(dim=384, name="bge-small-en-v1.5"),  # only reads here
    ) as mem:
        pages = mem.pages()  # in commit order
        assert mem.store.integrity_check() == "ok"
        # Each write moved the overflow out of short-term in its own transaction: exactly
        # the newest pages are short-term, every older one sits in a mid-term segment.
        cap = mem.settings.short_term_capacity
        assert [p.tier for p in pages] == ["mid"] * (len(pages) - cap) + ["short"] * cap
        assert all(p.segment_id is not None for p in pages[:-cap])
        assert mem.store.one("SELECT COUNT(*) FROM pages_vec")[0] == len(pages)
    texts = [p.user_input for p in pages]
    counts = Counter(t.rsplit(" ", 1)[0] for t in texts)
    assert counts == {
        "warm": 1,
        "api note": API_NOTES,
        "mcp note": MCP_NOTES,
        "chat line": CHAT_LINES,
        "cli add": CLI_ADDS,
    }
    # Writers really overlapped: the API and MCP writers' commits are interleaved.
    order = [t.rsplit(" ", 1)[0] for t in texts]
    api_at = [i for i, w in enumerate(order) if w == "api note"]
    mcp_at = [i for i, w in enumerate(order) if w == "mcp note"]
    assert api_at[0] < mcp_at[-1] and mcp_at[0] < api_at[-1], "".join(w[0] for w in order)
