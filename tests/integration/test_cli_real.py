"""The CLI on the real default embedder (bge-small): add, search, export/import, reindex."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder

pytestmark = pytest.mark.integration


def run(env: Env, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), obj=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_real_embedder_end_to_end(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    env = Env(user="alice", assistant="assistant")
    talk = [  # the page to find comes last: id order alone would not put it first
        ("I bake sourdough bread every Sunday.", "Lovely habit."),
        ("My cat Miso knocked over a plant.", "Cats will be cats."),
        ("My sister Anna is getting married in June.", "How exciting!"),
    ]
    for i, (user, reply) in enumerate(talk):
        out = run(env, "add", "--user-input", user, "--response", reply,
                  "--timestamp", f"2024-05-0{i + 1}T10:00")  # fmt: skip
        assert out == f"stored p{i + 1} (2024-05-0{i + 1} 10:00, short-term)\n"
    assert run(env, "remember", "Is allergic to peanuts") == "remembered k1\n"
    data = json.loads(run(env, "search", "wedding of a sibling", "--json"))
    # semantic, not lexical: no word in common
    assert max(data["short"], key=lambda i: i["similarity"])["ref"] == "p3"
    assert max(data["short"], key=lambda i: i["score"])["ref"] == "p3"
    stats = json.loads(run(env, "stats", "--json"))
    assert stats["embedder"] == "bge-small-en-v1.5" and stats["pages"] == 3

    first = tmp_path / "me.json"
    run(env, "export", "-o", str(first))
    fresh = Env(home=tmp_path / "fresh", user="alice", assistant="assistant")
    out = run(fresh, "import", str(first))
    assert out.startswith("imported 3 exchanges (0 already here)")
    run(fresh, "export", "-o", str(tmp_path / "again.json"))
    a, b = json.loads(first.read_text()), json.loads((tmp_path / "again.json").read_text())
    a.pop("exported_at"), b.pop("exported_at")
    assert a == b
    found = json.loads(run(fresh, "search", "peanut allergy", "--tier", "knowledge", "--json"))
    assert found["knowledge"][0]["text"] == "Is allergic to peanuts"


def test_reindex_from_another_embedder_to_the_default(home: Path) -> None:
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder()) as mem:
        mem.add_memory("I bake sourdough bread every Sunday.", "Lovely habit.")
        mem.add_memory("My sister Anna is getting married in June.", "How exciting!")
    env = Env(user="alice", assistant="assistant")
    result = CliRunner().invoke(app, ["stats"], obj=env)
    assert "reindex" in str(result.exception)  # the mismatch says what to run
    out = run(env, "reindex")
    assert out.endswith(
        "reindexed 2 pages, 0 segments and 0 facts with bge-small-en-v1.5 (384-d)\n"
    )
    data = json.loads(run(env, "search", "wedding of a sibling", "--json"))
    assert max(data["short"], key=lambda i: i["similarity"])["ref"] == "p2"
