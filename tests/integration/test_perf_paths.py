"""The fast paths behind `bench perf`: binary page prefilter, batched ingest, v1 -> v2 upgrade."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from helpers import place_v1_fixture, v1_fixture_memory

from memoryos_cli.api import Memoryos
from memoryos_cli.bench import perf
from memoryos_cli.embed import normalize
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError, ModelError
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import retrieve
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.store import Store, vectors
from memoryos_cli.store.migrations import MIGRATIONS

DIM = 384


def exchanges(n: int) -> list[dict[str, object]]:
    topics = ["garden tomatoes", "marathon training", "sister wedding Lisbon", "tax forms", "jazz"]
    return [
        {
            "user_input": f"day {i}: about {topics[i % 5]} and {topics[(i * 3) % 5]} ({i})",
            "agent_response": f"noted {topics[(i * 7) % 5]}",
            "timestamp": 1_700_000_000 + 60 * i,
            "meta_data": {"n": i},
        }
        for i in range(n)
    ]


def open_mem(home: Path, **kw: object) -> Memoryos:
    return Memoryos(
        "alice", "assistant", home, llm_model=ScriptedLLM(), embedder=HashingEmbedder(), **kw
    )


def test_v1_fixture_migrates_to_v2_with_pages_bin_backfilled(home: Path) -> None:
    place_v1_fixture(home)
    store = Store(home / "memoryos.db")
    try:
        assert store.schema_version == len(MIGRATIONS) >= 2
        names = [r[0] for r in store.query("SELECT name FROM schema_migrations ORDER BY name")]
        assert names[:2] == ["m001_initial", "m002_pages_binary_index"]
        floats = dict(store.query("SELECT page_id, embedding FROM pages_vec"))
        bits = dict(store.query("SELECT page_id, embedding FROM pages_bin"))
        assert len(floats) == 5 and set(bits) == set(floats)
        dim = int(store.get_meta("embedding_dim") or 0)
        for pid, data in floats.items():
            signs = np.packbits(vectors.from_blob(data) > 0, bitorder="little").tobytes()
            assert bits[pid] == signs and len(bits[pid]) == dim // 8
        owners = dict(store.query("SELECT page_id, owner_id FROM pages_vec"))
        assert dict(store.query("SELECT page_id, owner_id FROM pages_bin")) == owners
    finally:
        store.close()
    with v1_fixture_memory(home) as mem:
        pid = mem.add_memory("The wedding went well.", "Wonderful!")
        assert mem.store.one("SELECT COUNT(*) FROM pages_bin WHERE page_id = ?", (pid,))[0] == 1


def test_unbound_store_gets_pages_bin_when_bound(home: Path) -> None:
    store = Store(home / "memoryos.db")
    try:
        assert store.one("SELECT COUNT(*) FROM sqlite_master WHERE name = 'pages_bin'")[0] == 0
        store.bind_embedder("e", DIM)
        assert store.one("SELECT COUNT(*) FROM sqlite_master WHERE name = 'pages_bin'")[0] == 1
    finally:
        store.close()


@pytest.fixture
def random_store(home: Path) -> Store:
    """400 random unit vectors in 40 topics for owner 1, and 100 for owner 2."""
    store = Store(home / "memoryos.db")
    store.bind_embedder("random", DIM)
    rng = np.random.default_rng(7)
    topics = rng.normal(size=(50, DIM))
    data = normalize(
        (np.repeat(topics, 10, axis=0) + rng.normal(size=(500, DIM))).astype(np.float32)
    )
    with store.transaction() as conn:
        for i, vec in enumerate(data, start=1):
            vectors.upsert(conn, "pages_vec", i, 1 if i <= 400 else 2, vec)
    store.topics = normalize(topics.astype(np.float32))  # type: ignore[attr-defined]
    return store


def test_binary_prefilter_finds_the_exact_top_results(random_store: Store) -> None:
    rng = np.random.default_rng(11)
    conn, topics = random_store.conn, random_store.topics  # type: ignore[attr-defined]
    try:
        noisy = topics[:40] + rng.normal(size=(40, DIM)).astype(np.float32) / np.sqrt(DIM)
        for q in normalize(noisy):
            exact = vectors.knn(conn, "pages_vec", 1, q, 10)
            approx = vectors.knn_binary(conn, "pages_vec", 1, q, 10, shortlist=200)
            assert [i for i, _ in approx] == [i for i, _ in exact]
            assert np.allclose([s for _, s in approx], [s for _, s in exact], atol=1e-5)
        # Queries about nothing stored (pure noise) still agree on the best few.
        for q in normalize(rng.normal(size=(10, DIM)).astype(np.float32)):
            exact = [i for i, _ in vectors.knn(conn, "pages_vec", 1, q, 10)]
            approx = [i for i, _ in vectors.knn_binary(conn, "pages_vec", 1, q, 10, 200)]
            assert approx[0] == exact[0] and len(set(approx) & set(exact)) >= 8
            assert all(i <= 400 for i in approx), "another owner's pages never appear"
    finally:
        random_store.close()


def test_hamming_scan_reads_what_vec0_would_return(
    random_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    conn = random_store.conn
    try:
        for q in normalize(rng.normal(size=(10, DIM)).astype(np.float32)):
            ids = vectors.hamming_scan(conn, "pages_bin", 1, q, 60)
            assert ids is not None and len(ids) == 60 and all(i <= 400 for i in ids)
            rows = conn.execute(
                "SELECT page_id, distance FROM pages_bin WHERE embedding MATCH"
                " vec_quantize_binary(?) AND k = 60 AND owner_id = 1",
                (vectors.blob(q),),
            ).fetchall()
            theirs = dict((int(i), d) for i, d in rows)
            ours = [
                int(d)
                for (d,) in (
                    conn.execute(
                        "SELECT vec_distance_hamming(embedding, vec_quantize_binary(?))"
                        " FROM pages_bin WHERE page_id = ?",
                        (vectors.blob(q), i),
                    ).fetchone()
                    for i in ids
                )
            ]
            assert ours == sorted(ours) == sorted(int(d) for d in theirs.values())
        # A layout this code does not know: vec0 answers instead, with the same results.
        q = normalize(rng.normal(size=(1, DIM)).astype(np.float32))[0]
        fast = vectors.knn_binary(conn, "pages_vec", 1, q, 10, 200)
        monkeypatch.setattr(vectors, "CHUNK_COLUMNS", ["unknown"])
        assert vectors.hamming_scan(conn, "pages_bin", 1, q, 60) is None
        assert vectors.knn_binary(conn, "pages_vec", 1, q, 10, 200) == fast
        with random_store.transaction() as tx:
            vectors.erase(tx, "pages_vec", fast[0][0])
        monkeypatch.undo()
        assert fast[0][0] not in (vectors.hamming_scan(conn, "pages_bin", 1, q, 400) or [])
    finally:
        random_store.close()


def test_recall_with_binary_prefilter_matches_exact(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    pages = [perf.synth_exchange(rng, i) for i in range(300)]
    with Memoryos(
        "alice", "assistant", home, llm_model=ScriptedLLM(), embedder=HashingEmbedder(dim=DIM)
    ) as mem:
        mem.add_memories([{"user_input": u, "agent_response": a} for u, a in pages])
        queries = [perf.synth_query(rng, i) for i in range(20)]
        exact = [[i.ref for i in mem.search(q, k=10).mid_term] for q in queries]
        monkeypatch.setattr(retrieve, "BINARY_MIN_PAGES", 0)
        calls: list[int] = []
        knn_binary = vectors.knn_binary
        monkeypatch.setattr(
            vectors, "knn_binary", lambda *a, **kw: calls.append(1) or knn_binary(*a, **kw)
        )
        fast = [[i.ref for i in mem.search(q, k=10).mid_term] for q in queries]
        assert len(calls) == len(queries), "the binary path was taken"
        # Approximate, so near-ties at the 50th dense candidate may change the tail (the
        # fusion rescales by it): the best pages agree, and nearly all of the ten.
        assert [f[0] for f in fast] == [e[0] for e in exact]
        overlap = [len(set(f) & set(e)) / len(e) for f, e in zip(fast, exact, strict=True)]
        assert sum(overlap) / len(overlap) >= 0.9


def test_add_memories_equals_add_memory_in_order(tmp_path: Path) -> None:
    items = exchanges(40)
    with open_mem(tmp_path / "one", short_term_capacity=3) as one:
        ids_one = [one.add_memory(**item) for item in items]  # type: ignore[arg-type]
        pages_one, segs_one = one.pages(), one.segments()
        centroids_one = one.store.query("SELECT id, centroid FROM segments ORDER BY id")
    with open_mem(tmp_path / "batch", short_term_capacity=3) as batch:
        batch.ADD_BATCH = 16  # several batches
        ids_batch = batch.add_memories(items)
        pages_batch, segs_batch = batch.pages(), batch.segments()
        n_bin = batch.store.one("SELECT COUNT(*) FROM pages_bin")[0]
        vecs_batch = vectors.get(batch.store.conn, "pages_vec", ids_batch)
        centroids_batch = batch.store.query("SELECT id, centroid FROM segments ORDER BY id")
    assert ids_batch == ids_one
    key = lambda p: (p.id, p.user_input, p.agent_response, p.ts, p.meta, p.tier, p.segment_id)  # noqa: E731
    assert [key(p) for p in pages_batch] == [key(p) for p in pages_one]
    assert [(s.id, s.page_count, s.keywords) for s in segs_batch] == [
        (s.id, s.page_count, s.keywords) for s in segs_one
    ]
    assert n_bin == 40
    # Pages of a batch spill to mid-term with their own vectors before those are written.
    assert [(i, vectors.from_blob(c).round(5).tolist()) for i, c in centroids_batch] == [
        (i, vectors.from_blob(c).round(5).tolist()) for i, c in centroids_one
    ]
    # Each page got its own text's vector, written after its batch's text.
    embedder = HashingEmbedder()
    for page in pages_batch:
        expected = embedder.embed([page_text(page.user_input, page.agent_response)])[0]
        assert np.allclose(vecs_batch[page.id], expected)


class FailingEmbedder(HashingEmbedder):
    """An embedder that dies on any text holding `poison` (it runs on its own thread)."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any(self.poison in t for t in texts):
            raise ModelError("the embedder crashed")
        return super().embed(texts)


def test_a_failed_embedding_rolls_back_the_text_written_meanwhile(tmp_path: Path) -> None:
    """Page text goes in while its vector is computed; if that fails, none of it stays."""
    with Memoryos(
        "alice", "assistant", tmp_path, llm_model=ScriptedLLM(), embedder=FailingEmbedder("BOOM")
    ) as mem:
        mem.ADD_BATCH = 4
        first = mem.add_memory("my garden has tomatoes", "nice")
        with pytest.raises(ModelError, match="crashed"):
            mem.add_memory("BOOM goes the garden", "oh")
        items = exchanges(10)
        items[6]["user_input"] = "BOOM in the second batch"
        with pytest.raises(ModelError):
            mem.add_memories(items)
        kept = [p.user_input for p in mem.pages()]
        # The first batch of four was committed before the second failed, as before.
        assert kept == ["my garden has tomatoes"] + [str(i["user_input"]) for i in items[:4]]
        conn = mem.store.conn
        assert (
            conn.execute("SELECT COUNT(*) FROM pages_fts WHERE pages_fts MATCH 'boom'").fetchone()[
                0
            ]
            == 0
        )
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM sessions_fts WHERE sessions_fts MATCH 'boom'"
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("SELECT SUM(page_count) FROM sessions").fetchone()[0] == 5
        assert conn.execute("SELECT COUNT(*) FROM pages_vec").fetchone()[0] == 5
        with pytest.raises(ModelError):
            mem.retrieve("BOOM")
        assert [i.page.id for i in mem.retrieve("garden tomatoes").short_term][0] == first


def test_retrieve_embeds_while_it_searches_and_ranks_as_with_the_vector(mem: Memoryos) -> None:
    mem.add_memories(exchanges(60))
    for query in ["marathon training day 7", "tax forms and jazz", "Lisbon wedding"]:
        qvec = mem.embedder.embed([query])[0]
        direct = retrieve.recall(mem.scope, query, qvec, pages_k=10, touch=False)
        via_api = mem.retrieve(query, k=10, touch=False)
        assert [i.ref for i in via_api.mid_term] == [i.ref for i in direct.mid_term]
        assert [i.score for i in via_api.mid_term] == [i.score for i in direct.mid_term]
        assert via_api.segments == direct.segments


def test_add_memories_checks_everything_before_writing(mem: Memoryos) -> None:
    items = exchanges(3) + [{"user_input": "", "agent_response": " "}]
    with pytest.raises(InvalidInputError):
        mem.add_memories(items)
    with pytest.raises(InvalidInputError):
        mem.add_memories([{"user_input": "hi", "agent_response": "yo", "when": 1}])
    assert mem.pages() == []
    assert mem.add_memories([]) == []


def test_forget_erases_the_binary_vector(mem: Memoryos) -> None:
    pids = mem.add_memories(exchanges(5))
    bits = mem.store.one("SELECT embedding FROM pages_bin WHERE page_id = ?", (pids[2],))[0]

    def chunks() -> bytes:
        return b"".join(
            r[0] for r in mem.store.query("SELECT vectors FROM pages_bin_vector_chunks00")
        )

    others = [
        mem.store.one("SELECT embedding FROM pages_bin WHERE page_id = ?", (p,))[0]
        for p in pids
        if p != pids[2]
    ]
    assert bits in chunks() and bits not in others
    mem.forget(f"p{pids[2]}")
    assert mem.store.one("SELECT COUNT(*) FROM pages_bin WHERE page_id = ?", (pids[2],))[0] == 0
    assert bits not in chunks(), "sqlite-vec zeroes a deleted row's slot"
    mem.forget_all()
    assert mem.store.one("SELECT COUNT(*) FROM pages_bin")[0] == 0
