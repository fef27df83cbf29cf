"""Flat page searches that the benchmarks compare memoryos with: one index each, no tiers
and no context (BM25 alone, dense alone, or the two fused by reciprocal rank)."""

from __future__ import annotations

from typing import Literal, get_args

from memoryos_cli.embed import Vector
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory import retrieve
from memoryos_cli.memory.scope import Scope

Method = Literal["bm25", "dense", "hybrid"]
METHODS: tuple[Method, ...] = get_args(Method)


def search_pages(scope: Scope, query: str, qvec: Vector, k: int, method: Method) -> list[int]:
    """Ids of the owner's pages best matching `query` (or its vector `qvec`), best first."""
    if method not in METHODS:
        raise InvalidInputError(f"unknown search method {method!r}; known: {', '.join(METHODS)}")
    store, owner = scope.store, scope.owner_id
    with store.lock:
        conn = store.conn
        if method == "bm25":
            return retrieve.bm25(conn, "pages_fts", owner, query, k)
        if method == "dense":
            return [i for i, _ in retrieve.dense(conn, "pages_vec", owner, qvec, k)]
        depth = max(k, retrieve.CANDIDATES)
        scores, _ = retrieve.hybrid(conn, "pages", owner, query, qvec, depth)
    return [i for i, _ in sorted(scores.items(), key=lambda kv: (-kv[1], -kv[0]))][:k]
