"""Re-embed every page, segment centroid and fact with a new embedder, in one transaction.

Vectors of different embedders never mix: the vec0 tables are dropped and recreated at
the new dimension, and the store is bound to the new embedder, all or nothing. The texts
are embedded before the transaction (only rows written meanwhile, and the summaries of
segments without pages, inside it), and an interrupt or a failing model there rolls it
back: the file stays on its old embedder, as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from memoryos_cli.config import Settings
from memoryos_cli.embed import Embedder, Vector, normalize
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named
from memoryos_cli.memory import long_term, mid_term
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.store import Store, vectors

BATCH = 256
SAMPLE = 32  # texts timed for the estimate (they are kept, not embedded twice)

Key = tuple[str, int]  # ("p", page id) or ("k", fact id)
Progress = Callable[[int, int], None]  # texts embedded so far, texts in all


@dataclass(frozen=True)
class Estimate:
    """What a reindex embeds and how long the rest should take, from a timed sample."""

    embedder: str
    pages: int
    facts: int
    seconds: float


@dataclass
class _Tally:
    """Texts embedded so far, reported after each batch."""

    total: int
    report: Progress | None
    done: int = 0

    def add(self, count: int) -> None:
        self.done += count
        if self.report is not None:
            self.report(self.done, self.total)


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder (the one `reindex` moves the store to)."""
    return embedder_named(settings.embedder or DEFAULT_EMBEDDER, settings)


def _embed(embedder: Embedder, todo: list[tuple[Key, str]], tally: _Tally) -> dict[Key, Vector]:
    out: dict[Key, Vector] = {}
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        vecs = embedder.embed([text for _, text in batch])
        out.update(zip((key for key, _ in batch), vecs, strict=True))
        tally.add(len(batch))
    return out


def _timed_sample(
    embedder: Embedder, todo: list[tuple[Key, str]], cache: dict[Key, Vector], tally: _Tally
) -> float:
    """Embed an evenly spread sample into `cache`; the seconds the rest should take."""
    sample = todo[:: max(1, len(todo) // SAMPLE)][:SAMPLE]
    if not sample:
        return 0.0
    embedder.embed([sample[0][1]])  # the first call loads the model: not part of the rate
    start = perf_counter()
    cache.update(_embed(embedder, sample, tally))
    per_text = (perf_counter() - start) / len(sample)
    return per_text * (len(todo) - len(sample))


def _texts(pages: list[Any], facts: list[Any]) -> list[tuple[Key, str]]:
    return [(("p", int(r[0])), page_text(r[2], r[3])) for r in pages] + [
        (("k", int(r[0])), r[2]) for r in facts
    ]


def reindex(
    store: Store,
    embedder: Embedder,
    progress: Progress | None = None,
    estimated: Callable[[Estimate], None] | None = None,
) -> dict[str, Any]:
    """Re-embed the whole file (every owner) with `embedder`; returns what was rebuilt.

    `progress` hears (done, total) after each batch, pages and facts counted together;
    `estimated` hears, before the bulk of the work, how long it should take.
    """
    with store.lock:
        pages, facts = page_store.texts(store.conn), long_term.fact_texts(store.conn)
    todo = _texts(pages, facts)
    tally = _Tally(len(todo), progress)
    cache: dict[Key, Vector] = {}
    if estimated is not None:
        seconds = _timed_sample(embedder, todo, cache, tally)
        estimated(Estimate(embedder.name, len(pages), len(facts), seconds))
    cache.update(_embed(embedder, [t for t in todo if t[0] not in cache], tally))
    with store.transaction() as conn:
        # Rows written since the first read are embedded here, under the write lock.
        pages, facts = page_store.texts(conn), long_term.fact_texts(conn)
        late = [t for t in _texts(pages, facts) if t[0] not in cache]
        tally.total += len(late)
        cache.update(_embed(embedder, late, tally))
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
        segments = mid_term.summaries(conn)
        for sid, owner, summary in segments:
            vecs = members.get(int(sid)) or list(embedder.embed([summary]))
            centroid = normalize(np.mean(np.stack(vecs), axis=0)[np.newaxis, :])[0]
            mid_term.set_centroid(conn, int(owner), int(sid), centroid)
        store.record_embedder(conn, embedder.name, embedder.dim)
    store.checkpoint()
    return {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "pages": len(pages),
        "segments": len(segments),
        "facts": len(facts),
    }
