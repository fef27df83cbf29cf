"""`memoryos reindex`: progress per batch, a timed estimate, and nothing lost when interrupted."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cli_support import fast_env, run, seed
from rich.console import Console

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.env import Env
from memoryos_cli.embed import Vector
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import EmbedderMismatchError
from memoryos_cli.memory import reindex as reindexing
from memoryos_cli.store import Store

OLD = "hashing-test"  # what `seed` indexes with: HashingEmbedder()
TABLES = {  # every table a reindex writes, with its row key
    "meta": "key",
    "pages": "id",
    "knowledge": "id",
    "segments": "id",
    "pages_vec": "page_id",
    "pages_bin": "page_id",
    "knowledge_vec": "knowledge_id",
    "segments_vec": "segment_id",
}


class Flaky:
    """The new embedder, which fails on its `fail_on`-th call (Ctrl-C, or a broken model)."""

    def __init__(self, fail_on: int, error: BaseException) -> None:
        self.inner = HashingEmbedder(dim=32, name="hashing-32")
        self.name = self.inner.name
        self.fail_on, self.error = fail_on, error
        self.calls: list[int] = []  # how many texts each call embedded

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Vector:
        self.calls.append(len(texts))
        if len(self.calls) == self.fail_on:
            raise self.error
        return self.inner.embed(texts)

    def embed_query(self, texts: Sequence[str]) -> Vector:
        return self.inner.embed_query(texts)


def snapshot(home: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a reindex touches, vectors included."""
    store = Store(home / "memoryos.db")
    try:
        return {t: [tuple(r) for r in store.query(f"SELECT * FROM {t} ORDER BY {key}")]
                for t, key in TABLES.items()}  # fmt: skip
    finally:
        store.close()


def reindex(home: Path, embedder: Any, **callbacks: Any) -> dict[str, Any]:
    store = Store(home / "memoryos.db")
    try:
        return reindexing.reindex(store, embedder, **callbacks)
    finally:
        store.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Env:
    return fast_env(monkeypatch)


def test_progress_is_told_after_each_batch_pages_and_facts_together(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(home)  # 9 pages and 2 facts
    monkeypatch.setattr(reindexing, "BATCH", 4)
    calls: list[tuple[int, int]] = []
    result = reindex(home, Flaky(0, RuntimeError()), progress=lambda *a: calls.append(a))
    assert calls == [(4, 11), (8, 11), (11, 11)]
    assert result == {"embedder": "hashing-32", "dim": 32, "pages": 9, "segments": 1, "facts": 2}


def test_the_estimate_times_a_spread_sample_and_reuses_its_vectors(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder()) as mem:
        for i in range(100):
            mem.add_memory(f"question {i}", f"answer {i}")
    clock = iter([10.0, 13.2])  # the 32 sampled texts take 3.2 s: 0.1 s a text
    monkeypatch.setattr(reindexing, "perf_counter", lambda: next(clock))
    new = Flaky(0, RuntimeError())
    seen: list[Any] = []
    calls: list[tuple[int, int]] = []
    reindex(home, new, progress=lambda *a: calls.append(a), estimated=seen.append)
    assert seen == [
        reindexing.Estimate("hashing-32", pages=100, facts=0, seconds=pytest.approx(6.8))
    ]
    # one text to load the model, the sample, then only the 68 others
    assert new.calls == [1, 32, 68]
    assert calls == [(32, 100), (100, 100)]


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("embedding", KeyboardInterrupt()),
        ("embedding", RuntimeError("model crashed")),
        ("writing", KeyboardInterrupt()),  # after the old vector tables were dropped
        ("writing", RuntimeError("disk trouble")),
    ],
)
def test_an_interrupted_reindex_leaves_the_memory_as_it_was(
    home: Path, monkeypatch: pytest.MonkeyPatch, where: str, error: BaseException
) -> None:
    seed(home)
    before = snapshot(home)
    new = Flaky(2 if where == "embedding" else 0, error)
    with monkeypatch.context() as patch:
        patch.setattr(reindexing, "BATCH", 4)
        if where == "writing":
            upsert, written = reindexing.vectors.upsert, []

            def failing(*args: Any) -> None:
                written.append(args[1])
                if len(written) == 5:
                    raise error
                upsert(*args)

            patch.setattr(reindexing.vectors, "upsert", failing)
        with pytest.raises(type(error)):
            reindex(home, new)
    assert snapshot(home) == before  # rows, vectors and the bound embedder
    assert before["meta"] and dict(before["meta"])["embedder"] == OLD
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder()) as mem:
        assert mem.search("hiking Alps").mid_term[0].ref == "p1"  # the old vectors still work
    with pytest.raises(EmbedderMismatchError):
        Memoryos("alice", "assistant", home, llm_model="none", embedder=new.inner)
    assert reindex(home, new.inner)["pages"] == 9  # a second run completes
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=new.inner) as mem:
        assert mem.search("hiking Alps").mid_term[0].ref == "p1"


def test_cli_says_how_long_and_what_it_did(
    env: Env, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(home)
    monkeypatch.setattr(reindexing, "make_embedder", lambda settings: Flaky(0, RuntimeError()))
    out = run(env, "reindex").output  # piped: no bar, only the two lines
    assert out == (
        "re-embedding 9 pages and 2 facts with hashing-32: about 1 s\n"
        "reindexed 9 pages, 1 segment and 2 facts with hashing-32 (32-d)\n"
    )


def test_cli_json_stays_data(env: Env, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(home)
    monkeypatch.setattr(reindexing, "make_embedder", lambda settings: Flaky(0, RuntimeError()))
    out = run(env, "reindex", "--json").output
    assert out.startswith("{") and '"facts": 2' in out and "about" not in out


def test_cli_shows_a_bar_with_time_remaining_in_a_terminal(
    env: Env, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(home)
    monkeypatch.setattr(reindexing, "make_embedder", lambda settings: Flaky(0, RuntimeError()))
    screen = io.StringIO()
    env.console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    run(env, "reindex")
    shown = screen.getvalue()
    assert "re-embedding" in shown and "11/11" in shown and "0:00:00" in shown
    assert "reindexed 9 pages" in shown


def test_cli_interrupted_says_nothing_changed(
    env: Env, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(home)
    before = snapshot(home)
    monkeypatch.setattr(reindexing, "make_embedder", lambda s: Flaky(2, KeyboardInterrupt()))
    result = run(env, "reindex", ok=False)
    assert result.exit_code != 0
    assert "interrupted: nothing changed; run `memoryos reindex` again" in result.output
    assert snapshot(home) == before


@pytest.mark.parametrize(("seconds", "said"), [(0.0, "about 1 s"), (41.6, "about 42 s"),
                                               (600.0, "about 600 s (10 min)")])  # fmt: skip
def test_about(seconds: float, said: str) -> None:
    from memoryos_cli.cli.edit import about

    assert about(seconds) == said


def test_a_memory_open_during_a_reindex_writes_no_vector_of_the_old_embedder(home: Path) -> None:
    """Both embedders are 64-d here, as MiniLM and bge are both 384-d: without the check,
    the chat left open would add its old vectors to the new tables without an error."""
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder()) as mem:
        mem.add_memory("I keep bees on the roof.", "Lovely.")
        reindex(home, HashingEmbedder(name="hashing-other"))
        before = snapshot(home)
        with pytest.raises(EmbedderMismatchError, match="reindexed with embedder hashing-other"):
            mem.add_memory("My sister lives in Oslo.", "Nice city.")
        with pytest.raises(EmbedderMismatchError):
            mem.remember("Is allergic to peanuts")
        assert snapshot(home) == before
    with Memoryos(
        "alice", "assistant", home, llm_model="none", embedder=HashingEmbedder(name="hashing-other")
    ) as mem:
        mem.add_memory("My sister lives in Oslo.", "Nice city.")  # the new one writes
        assert mem.stats()["pages"] == 2
