"""Shared by the CLI tests: an Env on the hashing embedder, a runner, a seeded memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.memory import long_term
from memoryos_cli.store import Store

T0 = 1714573800.0  # 2024-05-01 14:30 UTC


def fast_env(monkeypatch: pytest.MonkeyPatch) -> Env:
    """An Env whose commands open the memory with the hashing embedder and no model."""
    monkeypatch.setenv("COLUMNS", "200")
    original = Env.memoryos

    def fast(self: Env, **kwargs: Any) -> Memoryos:
        kwargs.setdefault("embedder", HashingEmbedder())
        return original(self, llm_model="none", **kwargs)

    monkeypatch.setattr(Env, "memoryos", fast)
    return Env(user="alice", assistant="assistant")


def run(env: Env, *args: str, input: str | None = None, ok: bool = True) -> Any:
    result = CliRunner().invoke(app, list(args), obj=env, input=input)
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    store = Store(home / "memoryos.db")
    try:
        return [tuple(r) for r in store.query(sql)]
    finally:
        store.close()


def open_mem(home: Path) -> Memoryos:
    return Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder())


def seed(home: Path) -> None:
    """Nine exchanges (two reach mid-term), a profile attribute and a fact that changed."""
    with open_mem(home) as mem:
        topics = ["hiking in the Alps", "hiking boots", "my sister Anna's wedding",
                  "a job as a teacher", "a new job as a nurse", "baking bread",
                  "the cat Miso", "a trip to Lisbon", "learning Portuguese"]  # fmt: skip
        for i, topic in enumerate(topics):
            mem.add_memory(f"Let me tell you about {topic}.", f"Nice, {topic}!", T0 + i * 3600)
        vec = mem.embedder.embed(["Works as a teacher", "Works as a nurse"])
        with mem.store.transaction() as conn:
            owner = mem.scope.owner_id
            long_term.upsert_profile(conn, owner, "occupation", "teacher", [4], T0 + 3 * 3600)
            long_term.upsert_profile(conn, owner, "occupation", "nurse", [5], T0 + 4 * 3600)
            k1 = long_term.add_fact(conn, owner, "user", "Works as a teacher", vec[0], [4], T0)
            long_term.add_fact(conn, owner, "user", "Works as a nurse", vec[1], [5], T0 + 1, [k1])
