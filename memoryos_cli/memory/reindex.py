"""Re-embed every page, segment centroid and fact with a new embedder, in one transaction.

Vectors of different embedders never mix: the vec0 tables are dropped and recreated at
the new dimension, and the store is bound to the new embedder, all or nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memoryos_cli.config import Settings
from memoryos_cli.embed import Embedder, Vector, normalize
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named
from memoryos_cli.memory.text import page_text
from memoryos_cli.store import Store, vectors

BATCH = 256


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder (the one `reindex` moves the store to)."""
    return embedder_named(settings.embedder or DEFAULT_EMBEDDER, settings)


def _embed(embedder: Embedder, texts: list[str]) -> list[Vector]:
    out: list[Vector] = []
    for start in range(0, len(texts), BATCH):
        out.extend(embedder.embed(texts[start : start + BATCH]))
    return out


def _page_rows(conn: Any) -> list[Any]:
    return conn.execute(
        "SELECT id, owner_id, user_input, agent_response, segment_id FROM pages ORDER BY id"
    ).fetchall()


def _fact_rows(conn: Any) -> list[Any]:
    return conn.execute("SELECT id, owner_id, text FROM knowledge ORDER BY id").fetchall()


def reindex(store: Store, embedder: Embedder) -> dict[str, Any]:
    """Re-embed the whole file (every owner) with `embedder`; returns what was rebuilt."""
    with store.lock:
        pages, facts = _page_rows(store.conn), _fact_rows(store.conn)
    cache: dict[tuple[str, int], Vector] = {}
    page_vecs = _embed(embedder, [page_text(r[2], r[3]) for r in pages])
    cache.update({("p", int(r[0])): v for r, v in zip(pages, page_vecs, strict=True)})
    fact_vecs = _embed(embedder, [r[2] for r in facts])
    cache.update({("k", int(r[0])): v for r, v in zip(facts, fact_vecs, strict=True)})
    with store.transaction() as conn:
        # Rows written since the first read are embedded here, under the write lock.
        pages, facts = _page_rows(conn), _fact_rows(conn)
        late = [r for r in pages if ("p", int(r[0])) not in cache]
        for r, vec in zip(
            late, _embed(embedder, [page_text(r[2], r[3]) for r in late]), strict=True
        ):
            cache[("p", int(r[0]))] = vec
        late = [r for r in facts if ("k", int(r[0])) not in cache]
        for r, vec in zip(late, _embed(embedder, [r[2] for r in late]), strict=True):
            cache[("k", int(r[0]))] = vec
        store.drop_vector_tables(conn)
        store.create_vector_tables(conn, embedder.dim)
        members: dict[int, list[Vector]] = {}
        for pid, owner, _, _, sid in pages:
            vec = cache[("p", int(pid))]
            vectors.upsert(conn, "pages_vec", int(pid), int(owner), vec)
            if sid is not None:
                members.setdefault(int(sid), []).append(vec)
        for fid, owner, _ in facts:
            vectors.upsert(conn, "knowledge_vec", int(fid), int(owner), cache[("k", int(fid))])
        segments = conn.execute("SELECT id, owner_id, summary FROM segments ORDER BY id").fetchall()
        for sid, owner, summary in segments:
            vecs = members.get(int(sid)) or list(embedder.embed([summary]))
            centroid = normalize(np.mean(np.stack(vecs), axis=0)[np.newaxis, :])[0]
            conn.execute(
                "UPDATE segments SET centroid = ? WHERE id = ?", (vectors.blob(centroid), sid)
            )
            vectors.upsert(conn, "segments_vec", int(sid), int(owner), centroid)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (embedder.name,))
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('embedding_dim', ?)", (str(embedder.dim),)
        )
    store.checkpoint()
    return {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "pages": len(pages),
        "segments": len(segments),
        "facts": len(facts),
    }
