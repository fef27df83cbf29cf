"""MCP tools: what each returns, and bad arguments as tool errors that write nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.config import load_settings
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError, NotFoundError
from memoryos_cli.mcp_server import MemoryTools, build_server, open_memory
from memoryos_cli.memory import long_term


@pytest.fixture
def memory(home: Path) -> Iterator[Memoryos]:
    m = open_memory(load_settings(home, user_id="alice"), embedder=HashingEmbedder())
    yield m
    m.close()


@pytest.fixture
def tools(memory: Memoryos) -> MemoryTools:
    return MemoryTools(memory)


def call(tools: MemoryTools, name: str, arguments: dict[str, Any]) -> Any:
    """One tools/call through the SDK's in-process client, as a client would see it."""
    from mcp import Client

    async def run() -> Any:
        async with Client(build_server(tools), mode="legacy") as client:
            return await client.call_tool(name, arguments)

    return anyio.run(run)


def test_open_memory_never_loads_a_model(memory: Memoryos) -> None:
    assert memory.llm_free and not memory.llm_loaded
    assert memory.consolidate() == 0


def test_add_then_retrieve_has_tier_score_timestamp_id(tools: MemoryTools) -> None:
    added = tools.add_memory("My sister's wedding is in Lisbon", "Lovely!", "2024-05-01T14:30")
    tools.add_memory("I repair old bicycles", "Fun hobby.")
    assert added == {
        "id": "p1",
        "tier": "short",
        "timestamp": "2024-05-01T14:30:00+00:00",
        "ts": 1714573800.0,
    }
    recall = tools.retrieve_memory("sister wedding Lisbon")
    assert set(recall) >= {"short_term", "mid_term", "knowledge", "profile"}
    top = recall["short_term"][0]
    assert top["id"] == "p1" and top["tier"] == "short" and top["score"] > 0
    assert top["timestamp"] == "2024-05-01T14:30:00+00:00"
    assert top["user_input"] == "My sister's wedding is in Lisbon"
    json.dumps(recall)  # JSON-ready


def test_meta_data_is_kept(tools: MemoryTools, memory: Memoryos) -> None:
    tools.add_memory("hi", "hello", meta_data={"channel": "slack"})
    assert memory.pages()[0].meta == {"channel": "slack"}


def test_profile_and_knowledge(tools: MemoryTools, memory: Memoryos) -> None:
    with memory.scope.writing() as conn:
        long_term.upsert_profile(conn, memory.scope.owner_id, "city", "Lyon", [], 100.0)
    memory.remember("Alice is allergic to peanuts")
    memory.remember("I answer briefly", kind="assistant")
    out = tools.get_user_profile()
    assert out["user_id"] == "alice"
    assert [(p["id"], p["attribute"], p["value"]) for p in out["profile"]] == [
        ("u1", "city", "Lyon")
    ]
    assert [f["text"] for f in out["knowledge"]] == ["Alice is allergic to peanuts"]
    assert out["knowledge"][0]["id"].startswith("k") and "assistant_knowledge" not in out
    both = tools.get_user_profile(include_knowledge=False, include_assistant_knowledge=True)
    assert "knowledge" not in both
    assert [f["text"] for f in both["assistant_knowledge"]] == ["I answer briefly"]


def test_search_does_not_heat_segments(tools: MemoryTools, memory: Memoryos) -> None:
    for i in range(10):  # capacity 7: three pages overflow into mid-term segments
        tools.add_memory(f"gardening tomatoes note {i}", "ok")
    before = {s["id"]: s["visits"] for s in tools.list_segments()["segments"]}
    assert before and all(s.startswith("s") for s in before)
    found = tools.search_memory("gardening tomatoes", k=3)
    assert found["mid_term"] and found["mid_term"][0]["tier"] == "mid"
    assert {s["id"]: s["visits"] for s in tools.list_segments()["segments"]} == before
    tools.retrieve_memory("gardening tomatoes")
    after = {s["id"]: s["visits"] for s in tools.list_segments()["segments"]}
    assert sum(after.values()) > sum(before.values())


def test_forget_removes_the_page(tools: MemoryTools, memory: Memoryos) -> None:
    tools.add_memory("my bank pin is 1234", "I will not repeat it")
    keep = tools.add_memory("I like tea", "noted")["id"]
    out = tools.forget_memory(" P1 ")
    assert out["forgotten"] == "p1" and out["deleted"]
    assert [p.ref for p in memory.pages()] == [keep]
    assert tools.stats()["pages"] == 1


def test_bad_input_raises_memoryos_errors(tools: MemoryTools, memory: Memoryos) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        tools.add_memory("x" * 1_000_000, "y")
    with pytest.raises(InvalidInputError, match="timestamp"):
        tools.add_memory("a", "b", timestamp="not a date")
    with pytest.raises(InvalidInputError, match="not a memory id"):
        tools.forget_memory("zz9")
    with pytest.raises(NotFoundError):
        tools.forget_memory("p404")
    assert memory.stats()["pages"] == 0


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("add_memory", {"agent_response": "y"}, "user_input"),
        ("add_memory", {"user_input": 5, "agent_response": "y"}, "valid string"),
        ("add_memory", {"user_input": "a", "agent_response": "b", "meta_data": [1]}, "meta_data"),
        ("add_memory", {"user_input": "x" * 1_000_000, "agent_response": "y"}, "the limit is"),
        ("add_memory", {"user_input": "a", "agent_response": "b", "timestamp": "soon"}, "ISO"),
        ("add_memory", {"user_input": " ", "agent_response": ""}, "needs a user input"),
        ("retrieve_memory", {"query": "q", "max_results": 0}, "max_results"),
        ("retrieve_memory", {}, "query"),
        # "" recalled every recent page at score 3.0, and retrieve heated their topics
        ("retrieve_memory", {"query": "   "}, "the query is empty"),
        ("search_memory", {"query": ""}, "the query is empty"),
        # 3 MB of it was stored beside a text capped at 100,000 characters
        (
            "add_memory",
            {"user_input": "a", "agent_response": "b", "meta_data": {"blob": "x" * 200_000}},
            "meta_data is 200,012",
        ),
        ("search_memory", {"query": ["q"]}, "valid string"),
        ("forget_memory", {"id": "p404"}, "no page p404"),
        ("forget_memory", {"id": "everything"}, "not a memory id"),
        ("no_such_tool", {}, "Unknown tool"),
    ],
)
def test_bad_arguments_are_tool_errors(
    tools: MemoryTools, memory: Memoryos, name: str, arguments: dict[str, Any], message: str
) -> None:
    result = call(tools, name, arguments)
    assert result.is_error
    assert message in result.content[0].text
    assert memory.stats()["pages"] == 0


def test_schemas_and_resources(tools: MemoryTools) -> None:
    from mcp import Client

    tools.add_memory("hello", "hi")

    async def run() -> tuple[Any, Any, Any, Any]:
        async with Client(build_server(tools), mode="legacy") as client:
            listed = await client.list_tools()
            added = await client.call_tool("add_memory", {"user_input": "a", "agent_response": "b"})
            profile = await client.read_resource("memoryos://profile")
            stats = await client.read_resource("memoryos://stats")
            return listed, added, profile, stats

    listed, added, profile, stats = anyio.run(run)
    schemas = {t.name: t for t in listed.tools}
    assert set(schemas) == {
        "add_memory",
        "retrieve_memory",
        "search_memory",
        "get_user_profile",
        "forget_memory",
        "list_segments",
    }
    assert all(t.description for t in listed.tools)
    add = schemas["add_memory"].input_schema
    assert add["required"] == ["user_input", "agent_response"]
    assert add["properties"]["user_input"]["type"] == "string"
    assert schemas["forget_memory"].annotations.destructive_hint
    assert schemas["search_memory"].annotations.read_only_hint
    assert not added.is_error and added.structured_content["id"] == "p2"
    assert json.loads(profile.contents[0].text)["user_id"] == "alice"
    assert json.loads(stats.contents[0].text)["pages"] == 2


def test_mcp_command_serves_the_chosen_memory(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import memoryos_cli.mcp_server as mcp_server
    from memoryos_cli.cli.app import app

    served: list[Any] = []
    monkeypatch.setattr(mcp_server, "serve", served.append)
    runner = CliRunner()
    assert "over MCP (stdio)" in runner.invoke(app, ["mcp", "--help"]).output
    result = runner.invoke(app, ["--user", "ann", "mcp", "--assistant", "bot"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["mcp", "--user", "bob", "--home", str(home / "other")])
    assert result.exit_code == 0, result.output
    assert [(s.user_id, s.assistant_id, s.home) for s in served] == [
        ("ann", "bot", home),
        ("bob", "memoryos", home / "other"),
    ]


# One call of every tool, on a memory with pages in mid-term, a profile item and a fact.
TOOL_CALLS: dict[str, dict[str, Any]] = {
    "search_memory": {"query": "violin lessons"},
    "get_user_profile": {"include_assistant_knowledge": True},
    "list_segments": {},
    "retrieve_memory": {"query": "violin lessons"},  # a visit: heats the segments it hits
    "add_memory": {"user_input": "I repair old bicycles", "agent_response": "Fun hobby."},
    "forget_memory": {"id": "p1"},
}


def snapshot(memory: Memoryos) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every stored table (the virtual tables' rows live in their shadows)."""
    names = memory.store.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
    )
    return {n: [tuple(r) for r in memory.store.query(f'SELECT * FROM "{n}"')] for (n,) in names}


@pytest.mark.parametrize("name", list(TOOL_CALLS))
def test_a_tool_is_annotated_read_only_exactly_when_calling_it_writes_nothing(
    tools: MemoryTools, memory: Memoryos, name: str
) -> None:
    """Clients skip confirmation for read-only tools: retrieve_memory counts a visit
    (segments get hotter), so it must not claim to be read-only; search_memory must not write."""
    from mcp import Client

    topics = ["violin lessons and practice", "garden tomatoes", "rust borrow checker"]
    for i in range(9):
        tools.add_memory(f"{topics[i % 3]} {i}", f"about {topics[i % 3]}", 1_700_000_000 + 60 * i)
    with memory.store.transaction() as conn:
        long_term.upsert_profile(conn, memory.scope.owner_id, "hobby", "violin", [1], 0.0)
    memory.remember("Plays the violin on Sundays")
    assert memory.stats()["mid_term_pages"] > 0

    async def run() -> tuple[Any, Any]:
        async with Client(build_server(tools), mode="legacy") as client:
            listed = await client.list_tools()
            return listed, await client.call_tool(name, TOOL_CALLS[name])

    before = snapshot(memory)
    listed, result = anyio.run(run)
    assert not result.is_error, result.content
    assert {t.name for t in listed.tools} == set(TOOL_CALLS)  # every tool is checked here
    wrote = snapshot(memory) != before
    annotations = {t.name: t.annotations for t in listed.tools}[name]
    assert bool(annotations.read_only_hint) is not wrote
