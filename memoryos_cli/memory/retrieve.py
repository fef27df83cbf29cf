"""Recall: hybrid ranking (sqlite-vec KNN + FTS5 BM25, fused by reciprocal rank fusion)
over segments, pages and knowledge, shaped by the MemoryOS tiers."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from memoryos_cli.embed import Vector
from memoryos_cli.memory import long_term, mid_term, short_term
from memoryos_cli.memory.records import PAGE_COLUMNS, Page, Recall, RecallItem
from memoryos_cli.memory.scope import Scope
from memoryos_cli.memory.text import fts_query, page_text
from memoryos_cli.store import vectors

RRF_K = 60
CANDIDATES = 50
TOP_SEGMENTS = 5
TOP_KNOWLEDGE = 5
MIN_KNOWLEDGE_SIMILARITY = 0.25
# Most a top segment adds to a page's fused score (which is at most 2.0).
SEGMENT_BONUS = 0.5
# From this many pages of one owner, page KNN scans sign bits (`pages_bin`) for a
# shortlist and reranks it exactly: a flat float scan of 100k pages takes ~74 ms here,
# the binary scan of 200 plus rerank ~25 ms. Below it the exact scan is cheap enough.
BINARY_MIN_PAGES = 20_000
BINARY_SHORTLIST = 200


def rrf(rankings: Iterable[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: sum of 1/(k + rank) over the lists an item appears in."""
    scores: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] += 1.0 / (k + rank)
    return dict(scores)


def _sole_owner(conn: Any, owner_id: int) -> bool:
    rows = conn.execute("SELECT id FROM owners LIMIT 2").fetchall()
    return len(rows) == 1 and int(rows[0][0]) == owner_id


def bm25_scored(
    conn: Any, table: str, owner_id: int, query: str, k: int
) -> list[tuple[int, float]]:
    """(row id, BM25 score) of one owner's rows best matching `query`, best first."""
    match = fts_query(query)
    if not match or k <= 0:
        return []
    base = {"pages_fts": "pages", "segments_fts": "segments", "knowledge_fts": "knowledge"}[table]
    if base != "knowledge" and _sole_owner(conn, owner_id):
        # One owner in the file (the usual case): no per-match lookup of the owner column,
        # which was most of BM25's cost when a common word matches thousands of pages.
        rows = conn.execute(
            f"SELECT rowid, -rank FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?",
            (match, k),
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]
    extra = " AND b.superseded_by IS NULL AND b.archived = 0" if base == "knowledge" else ""
    rows = conn.execute(
        f"SELECT f.rowid, -f.rank FROM {table} f JOIN {base} b ON b.id = f.rowid"
        f" WHERE {table} MATCH ? AND b.owner_id = ?{extra} ORDER BY f.rank LIMIT ?",
        (match, owner_id, k),
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def bm25(conn: Any, table: str, owner_id: int, query: str, k: int) -> list[int]:
    """Row ids of one owner best matching `query` by FTS5 BM25, best first."""
    return [i for i, _ in bm25_scored(conn, table, owner_id, query, k)]


def minmax(scores: dict[int, float]) -> dict[int, float]:
    """Scores rescaled to 0..1 within one result list (the best gets 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    return {i: (v - low) / (high - low) if high > low else 1.0 for i, v in scores.items()}


def relative_fusion(score_lists: Iterable[dict[int, float]]) -> dict[int, float]:
    """Relative score fusion: the sum of each list's min-max normalized scores.

    Unlike RRF it keeps how far apart results are: a page BM25 matches far better than
    the rest is not pulled level with the 30th-nearest vector.
    """
    fused: dict[int, float] = defaultdict(float)
    for scores in score_lists:
        for item, value in minmax(scores).items():
            fused[item] += value
    return dict(fused)


def segment_specificity(segment_pages: int, total_pages: int) -> float:
    """How much belonging to a segment says: 1 for a single page, 0 for all of them."""
    if total_pages < 2:
        return 0.0
    return math.log(total_pages / max(1, segment_pages)) / math.log(total_pages)


def dense(conn: Any, table: str, owner_id: int, qvec: Vector, k: int) -> list[tuple[int, float]]:
    return vectors.knn(conn, table, owner_id, qvec, k)


def dense_pages(
    conn: Any, owner_id: int, qvec: Vector, k: int, total: int
) -> list[tuple[int, float]]:
    """Nearest pages: exact below BINARY_MIN_PAGES, binary prefilter + exact rerank above."""
    if total < BINARY_MIN_PAGES:
        return vectors.knn(conn, "pages_vec", owner_id, qvec, k)
    return vectors.knn_binary(conn, "pages_vec", owner_id, qvec, k, max(BINARY_SHORTLIST, 4 * k))


def hybrid(
    conn: Any, table: str, owner_id: int, query: str, qvec: Vector, k: int
) -> tuple[dict[int, float], dict[int, float]]:
    """Fused scores and cosine similarities for the top candidates of one index."""
    dense_hits = dense(conn, f"{table}_vec", owner_id, qvec, k)
    lexical = bm25(conn, f"{table}_fts", owner_id, query, k)
    fused = rrf([[i for i, _ in dense_hits], lexical])
    return fused, dict(dense_hits)


def load_pages(conn: Any, ids: Iterable[int]) -> dict[int, Page]:
    ids = list(ids)
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE id IN ({marks})", ids).fetchall()
    return {int(r[0]): Page.from_row(r) for r in rows}


def _similarities(conn: Any, table: str, ids: list[int], qvec: Vector) -> dict[int, float]:
    got = vectors.get(conn, table, ids)
    return {i: float(np.dot(v, qvec)) for i, v in got.items()}


def page_item(page: Page, score: float, sim: float) -> RecallItem:
    return RecallItem(
        ref=page.ref,
        tier=page.tier,
        text=page_text(page.user_input, page.agent_response),
        score=score,
        similarity=sim,
        ts=page.ts,
        segment_id=page.segment_id,
        page=page,
    )


def recall(
    scope: Scope,
    query: str,
    qvec: Vector,
    *,
    pages_k: int | None = None,
    knowledge_k: int = TOP_KNOWLEDGE,
    touch: bool = True,
) -> Recall:
    """What memoryos remembers for `query`: every tier, scored, with timestamps.

    Mid-term ranking follows MemoryOS (segments first, pages inside the best segments),
    fused with a flat page search so pages of evicted or unlucky segments are not lost.
    """
    store, owner = scope.store, scope.owner_id
    k = pages_k or scope.settings.retrieval_queue_capacity
    with store.lock:
        conn = store.conn
        short = short_term.pages(conn, owner)
        short_sims = _similarities(conn, "pages_vec", [p.id for p in short], qvec)

        seg_scores, _ = hybrid(conn, "segments", owner, query, qvec, CANDIDATES)
        top_segments = sorted(seg_scores.items(), key=lambda kv: -kv[1])[:TOP_SEGMENTS]
        # Pages: relative score fusion of BM25 and cosine (RRF let the weaker dense list
        # drag strong lexical matches down: LoCoMo recall@10 0.68 -> 0.77 with this).
        total = int(
            conn.execute("SELECT COUNT(*) FROM pages WHERE owner_id = ?", (owner,)).fetchone()[0]
        )
        page_sims = dict(dense_pages(conn, owner, qvec, CANDIDATES, total))
        page_scores = relative_fusion(
            [dict(bm25_scored(conn, "pages_fts", owner, query, CANDIDATES)), page_sims]
        )
        short_ids = {p.id for p in short}
        # A top segment lifts its pages by how specific it is: a segment holding half of
        # all pages says little about any one of them (model-free segments grow large).
        seg_bonus: dict[int, float] = {}
        for rank, (sid, _) in enumerate(top_segments, start=1):
            row = conn.execute("SELECT page_count FROM segments WHERE id = ?", (sid,)).fetchone()
            size = int(row[0]) if row else total
            seg_bonus[sid] = SEGMENT_BONUS * segment_specificity(size, total) / rank
        # Short-term pages get the same fused score as mid-term ones, so the two rank together.
        short_items = [
            page_item(p, page_scores.get(p.id, 0.0), short_sims.get(p.id, 0.0)) for p in short
        ]
        candidates = set(page_scores) - short_ids
        missing = [i for i in candidates if i not in page_sims]
        page_sims.update(_similarities(conn, "pages_vec", missing, qvec))
        pages = load_pages(conn, candidates)
        scored: list[tuple[float, Page]] = []
        for pid, page in pages.items():
            score = page_scores.get(pid, 0.0)
            if page.segment_id is not None:
                score += seg_bonus.get(page.segment_id, 0.0)
            scored.append((score, page))
        scored.sort(key=lambda sp: (-sp[0], -sp[1].id))
        mid_items = [page_item(p, s, page_sims.get(p.id, 0.0)) for s, p in scored[:k]]

        fact_sims = dict(dense(conn, "knowledge_vec", owner, qvec, CANDIDATES))
        fact_lexical = bm25(conn, "knowledge_fts", owner, query, CANDIDATES)
        fact_scores = rrf([list(fact_sims), fact_lexical])
        lexical_hits = set(fact_lexical)
        active = {f.id: f for f in long_term.facts(conn, owner)}
        fact_items = []
        for fid, score in sorted(fact_scores.items(), key=lambda kv: -kv[1]):
            fact = active.get(fid)
            if fact is None:
                continue
            sim = fact_sims.get(fid)
            if sim is None:
                sim = _similarities(conn, "knowledge_vec", [fid], qvec).get(fid, 0.0)
            if sim < MIN_KNOWLEDGE_SIMILARITY and fid not in lexical_hits:
                continue  # neither close in meaning nor sharing a word with the query
            tier = "knowledge" if fact.kind == "user" else "assistant_knowledge"
            fact_items.append(RecallItem(fact.ref, tier, fact.text, score, sim, fact.ts))
            if len(fact_items) >= knowledge_k:
                break
        profile = long_term.profile(conn, owner)
    if touch:
        hit_segments = [i.segment_id for i in mid_items if i.segment_id is not None]
        if hit_segments:
            with store.transaction() as conn:
                mid_term.touch(conn, scope, [s for s in hit_segments if s is not None])
    return Recall(
        query=query,
        short_term=short_items,
        mid_term=mid_items,
        knowledge=fact_items,
        profile=profile,
        segments=top_segments,
    )
