"""The recall methods compared on the same pages with the same embedder.

Each returns page ids, best first. The baselines search the same SQLite indexes memoryos
keeps (pages_fts, pages_vec) one at a time (`Memoryos.search_pages`); `memoryos` is
`Memoryos.retrieve` with its tiers, and each ablation the same with one signal off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

from memoryos_cli.api import Memoryos
from memoryos_cli.embed import Vector
from memoryos_cli.memory.records import Recall, RecallItem
from memoryos_cli.memory.retrieve import Signals

Ranker = Callable[[Memoryos, str, Vector, int], list[int]]


def recency(mem: Memoryos, query: str, qvec: Vector, k: int) -> list[int]:
    """The last k pages, newest first: what a plain chat window would hold."""
    return [p.id for p in reversed(mem.pages(limit=k))]


def bm25(mem: Memoryos, query: str, qvec: Vector, k: int) -> list[int]:
    """FTS5 BM25 over all pages, nothing else."""
    return mem.search_pages(query, method="bm25", k=k, qvec=qvec)


def dense(mem: Memoryos, query: str, qvec: Vector, k: int) -> list[int]:
    """Flat sqlite-vec KNN over all page vectors (plain dense RAG)."""
    return mem.search_pages(query, method="dense", k=k, qvec=qvec)


def hybrid(mem: Memoryos, query: str, qvec: Vector, k: int) -> list[int]:
    """BM25 and dense fused by reciprocal rank fusion, flat (no tiers)."""
    return mem.search_pages(query, method="hybrid", k=k, qvec=qvec)


def merged_pages(recall: Recall) -> list[RecallItem]:
    """One ranking of the pages memoryos recalls: short-term and mid-term pages carry
    the same fused score, so they are ranked together by it."""
    return sorted([*recall.short_term, *recall.mid_term], key=lambda i: -i.score)


def memoryos(mem: Memoryos, query: str, qvec: Vector, k: int) -> list[int]:
    """Memoryos.retrieve: short-term + segments -> pages (touch=False: questions stay
    independent of each other and of their order)."""
    recall = mem.retrieve(query, k=k, touch=False)
    ids = [item.page.id for item in merged_pages(recall) if item.page is not None]
    return ids[:k]


SIGNALS = tuple(f.name for f in fields(Signals))


def without(signal: str) -> Ranker:
    """memoryos with one page-ranking signal turned off (or all of them: "signals")."""
    off = dict.fromkeys(SIGNALS if signal == "signals" else (signal,), False)
    signals = replace(Signals(), **off)

    def rank(mem: Memoryos, query: str, qvec: Vector, k: int) -> list[int]:
        recall = mem.retrieve(query, k=k, touch=False, signals=signals)
        ids = [item.page.id for item in merged_pages(recall) if item.page is not None]
        return ids[:k]

    rank.__doc__ = f"memoryos without {signal} (ablation)"
    return rank


METHODS: dict[str, Ranker] = {
    "recency": recency,
    "bm25": bm25,
    "dense": dense,
    "hybrid": hybrid,
    "memoryos": memoryos,
}
# Run when named with --methods: memoryos with each page-ranking signal off in turn.
ABLATIONS: dict[str, Ranker] = {
    f"memoryos-no-{signal}": without(signal) for signal in (*SIGNALS, "signals")
}
