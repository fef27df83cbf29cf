"""`memoryos mcp` as a client runs it: a subprocess on stdio, the real default
embedder, the real file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from helpers import data, gated_writer, mcp_session

pytestmark = pytest.mark.integration

N_EACH = 25  # exchanges written by each of the two processes in the concurrency test


def test_mcp_server_end_to_end(home: Path) -> None:
    async def run() -> None:
        async with mcp_session(home, "--user", "alice") as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"add_memory", "retrieve_memory", "get_user_profile", "forget_memory"} <= names

            # Stored first, so id order alone would put it first.
            bikes = data(
                await session.call_tool(
                    "add_memory",
                    {"user_input": "I fix old road bikes on weekends.", "agent_response": "Neat."},
                )
            )
            wedding = data(
                await session.call_tool(
                    "add_memory",
                    {
                        "user_input": "My sister Ana gets married in Lisbon in June.",
                        "agent_response": "How lovely, congratulations to Ana!",
                        "timestamp": "2024-03-02T10:00:00",
                        "meta_data": {"source": "test"},
                    },
                )
            )
            assert (bikes["id"], wedding["id"], wedding["tier"]) == ("p1", "p2", "short")

            recall = data(
                await session.call_tool("retrieve_memory", {"query": "Where is the wedding?"})
            )
            top = max(recall["short_term"], key=lambda i: i["score"])
            assert top["id"] == "p2" and top["tier"] == "short" and top["score"] > 0
            assert top["timestamp"] == "2024-03-02T10:00:00+00:00"
            assert top["meta"] == {"source": "test"}

            profile = data(await session.call_tool("get_user_profile", {}))
            assert profile["user_id"] == "alice" and profile["profile"] == []

            # Bad arguments: tool errors, nothing written, and the server keeps answering.
            bad = [
                ("add_memory", {"agent_response": "no user_input"}),
                ("add_memory", {"user_input": 42, "agent_response": "wrong type"}),
                ("add_memory", {"user_input": "x" * 1_000_000, "agent_response": "1 MB"}),
                ("retrieve_memory", {"query": "q", "max_results": "many"}),
                ("forget_memory", {"id": "p999"}),
                ("forget_memory", {"id": "drop table pages"}),
            ]
            for name, arguments in bad:
                result = await session.call_tool(name, arguments)
                assert result.is_error, (name, arguments)
            stats = json.loads((await session.read_resource("memoryos://stats")).contents[0].text)
            assert stats["pages"] == 2 and stats["model"] == "none"

            forgotten = data(await session.call_tool("forget_memory", {"id": wedding["id"]}))
            assert forgotten["forgotten"] == "p2"
            recall = data(await session.call_tool("search_memory", {"query": "sister wedding"}))
            assert [i["id"] for i in recall["short_term"]] == [bikes["id"]]

    anyio.run(run)


def test_mcp_and_another_process_write_concurrently(home: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "MEMORYOS_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    writer = gated_writer(go, N_EACH, "writer note {i} about sailing", env)
    try:

        async def run() -> None:
            async with mcp_session(home) as session:
                await session.initialize()
                # The first add waits for the embedder; then both sides are warm.
                data(
                    await session.call_tool(
                        "add_memory", {"user_input": "hi", "agent_response": "hello"}
                    )
                )
                assert await anyio.to_thread.run_sync(writer.stdout.readline) == "ready\n"
                go.touch()
                for i in range(N_EACH):
                    data(
                        await session.call_tool(
                            "add_memory",
                            {
                                "user_input": f"mcp note {i} about chess",
                                "agent_response": f"mcp reply {i}",
                            },
                        )
                    )
                out, err = await anyio.to_thread.run_sync(lambda: writer.communicate(timeout=120))
                assert writer.returncode == 0, err
                assert out.strip() == "done" and "locked" not in err
                stats = json.loads(
                    (await session.read_resource("memoryos://stats")).contents[0].text
                )
                assert stats["pages"] == 2 * N_EACH + 1

        anyio.run(run)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()

    assert "locked" not in (home.parent / "mcp-stderr.log").read_text()
    from memoryos_cli.store import Store

    store = Store(home / "memoryos.db")
    try:
        texts = [r[0] for r in store.query("SELECT user_input FROM pages ORDER BY id")]
        assert sorted(t for t in texts if t.startswith("writer")) == sorted(
            f"writer note {i} about sailing" for i in range(N_EACH)
        )
        assert sorted(t for t in texts if t.startswith("mcp")) == sorted(
            f"mcp note {i} about chess" for i in range(N_EACH)
        )
        assert store.one("PRAGMA integrity_check")[0] == "ok"
        # every page still has its vector, whichever process wrote it
        n_vec = store.one("SELECT COUNT(*) FROM pages_vec")[0]
        assert n_vec == 2 * N_EACH + 1
    finally:
        store.close()
