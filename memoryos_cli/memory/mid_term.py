"""Mid-term memory: topic segments of pages, with heat and LFU eviction (MemoryOS).

This module owns the `segments` table and its indexes (segments_fts, segments_vec).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import numpy as np

from memoryos_cli.catalog import calibrated
from memoryos_cli.config import Settings
from memoryos_cli.embed import Vector, normalize
from memoryos_cli.memory import jobs
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.heat import recency, segment_heat
from memoryos_cli.memory.keywords import jaccard
from memoryos_cli.memory.pages import logical_now
from memoryos_cli.memory.records import Page, Segment
from memoryos_cli.store import tables, vectors

SEGMENT_CANDIDATES = 8
SEGMENT_KEYWORDS = 24
KEYWORD_PAGES = 500
SEGMENT_COLUMNS = (
    "id, summary, keywords_json, summary_source, n_visit, l_interaction, last_visit_ts, page_count"
)


def segment_from_row(row: Any) -> Segment:
    return Segment(
        id=int(row[0]),
        summary=row[1],
        keywords=json.loads(row[2]),
        summary_source=row[3],
        n_visit=int(row[4]),
        l_interaction=int(row[5]),
        last_visit_ts=float(row[6]),
        page_count=int(row[7]),
    )


def heat_of(seg: Segment, now: float, settings: Settings) -> float:
    return segment_heat(
        seg.n_visit,
        seg.l_interaction,
        seg.last_visit_ts,
        now,
        alpha=settings.heat_alpha,
        beta=settings.heat_beta,
        gamma=settings.heat_gamma,
        tau_hours=settings.heat_tau_hours,
    )


def keyword_summary(words: list[str]) -> str:
    """The model-free summary: the segment's top keywords (the LLM path replaces it)."""
    return "Topics: " + ", ".join(words[:12]) if words else "Topics: (none)"


def best_segment(
    conn: Any, owner_id: int, vec: Vector, words: list[str]
) -> tuple[int | None, float]:
    """The segment maximizing F = cos(page, centroid) + jaccard(keywords), and F."""
    best: tuple[int | None, float] = (None, -1.0)
    candidates = vectors.knn(conn, "segments_vec", owner_id, vec, SEGMENT_CANDIDATES)
    if not candidates:
        return best
    ids = [sid for sid, _ in candidates]
    marks = ",".join("?" * len(ids))
    kw = {
        int(r[0]): json.loads(r[1])
        for r in conn.execute(
            f"SELECT id, keywords_json FROM segments WHERE id IN ({marks})", ids
        ).fetchall()
    }
    floor = vectors.bound_floor(conn)
    for sid, cos in candidates:
        score = calibrated(cos, floor) + jaccard(words, kw.get(sid, []))
        if score > best[1]:
            best = (sid, score)
    return best


def place_page(conn: Any, owner_id: int, page: Page, vec: Vector, *, settings: Settings) -> int:
    """Move a page out of short-term into the best-fitting segment, or a new one."""
    now = logical_now(conn, owner_id)
    sid, score = best_segment(conn, owner_id, vec, page.keywords)
    if sid is None or score < settings.segment_similarity_threshold:
        sid = _create_segment(conn, owner_id, page, vec, now)
    else:
        _join_segment(conn, owner_id, sid, vec, max(now, page.ts))
    page_store.move_to_segment(conn, page.id, sid)
    refresh_keywords(conn, sid)
    maybe_enqueue_analysis(conn, owner_id, sid, now, settings=settings)
    evict_lfu(conn, owner_id, capacity=settings.mid_term_capacity)
    return sid


def _create_segment(conn: Any, owner_id: int, page: Page, vec: Vector, now: float) -> int:
    cur = conn.execute(
        "INSERT INTO segments(owner_id, summary, keywords_json, n_visit, l_interaction,"
        " last_visit_ts, page_count, centroid, created_at, updated_at, id)"
        f" VALUES (?, ?, ?, 0, 1, ?, 1, ?, ?, ?, {tables.new_id('segments')})",
        (
            owner_id,
            keyword_summary(page.keywords),
            json.dumps(page.keywords[:SEGMENT_KEYWORDS]),
            max(now, page.ts),
            vectors.blob(vec),
            time.time(),
            time.time(),
        ),
    )
    sid = int(cur.lastrowid)
    vectors.upsert(conn, "segments_vec", sid, owner_id, vec)
    return sid


def _join_segment(conn: Any, owner_id: int, sid: int, vec: Vector, now: float) -> None:
    """Add a page: centroid moves, L_interaction grows, recency refreshes (as in MemoryOS)."""
    row = conn.execute("SELECT centroid, page_count FROM segments WHERE id = ?", (sid,)).fetchone()
    old, n = vectors.from_blob(row[0]), int(row[1])
    centroid = normalize(((old * n + vec) / (n + 1))[np.newaxis, :])[0]
    conn.execute(
        "UPDATE segments SET centroid = ?, page_count = page_count + 1,"
        " l_interaction = l_interaction + 1, last_visit_ts = MAX(last_visit_ts, ?),"
        " updated_at = ? WHERE id = ?",
        (vectors.blob(centroid), now, time.time(), sid),
    )
    vectors.upsert(conn, "segments_vec", sid, owner_id, centroid)


def refresh_keywords(conn: Any, sid: int) -> None:
    """Segment keywords = the most frequent keywords of its newest KEYWORD_PAGES pages.

    Bounded so a page joining a huge segment costs the same as joining a small one
    (all pages: 13 ms per add_memory at 8k pages in 5 segments, quadratic fill time).
    """
    counts: Counter[str] = Counter()
    for words in page_store.segment_keywords(conn, sid, KEYWORD_PAGES):
        counts.update(words)
    words = [w for w, _ in counts.most_common(SEGMENT_KEYWORDS)]
    source = conn.execute("SELECT summary_source FROM segments WHERE id = ?", (sid,)).fetchone()[0]
    if source == "llm":
        conn.execute("UPDATE segments SET keywords_json = ? WHERE id = ?", (json.dumps(words), sid))
    else:
        conn.execute(
            "UPDATE segments SET keywords_json = ?, summary = ? WHERE id = ?",
            (json.dumps(words), keyword_summary(words), sid),
        )


def get_segment(conn: Any, sid: int) -> Segment | None:
    row = conn.execute(f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE id = ?", (sid,)).fetchone()
    return None if row is None else segment_from_row(row)


def segment_owner(conn: Any, sid: int) -> int | None:
    """The owner of segment `sid`; None when there is no such segment."""
    row = conn.execute("SELECT owner_id FROM segments WHERE id = ?", (sid,)).fetchone()
    return None if row is None else int(row[0])


def count_segments(conn: Any, owner_id: int) -> int:
    row = conn.execute("SELECT COUNT(*) FROM segments WHERE owner_id = ?", (owner_id,)).fetchone()
    return int(row[0])


def list_segments(conn: Any, owner_id: int, *, settings: Settings) -> list[Segment]:
    now = logical_now(conn, owner_id)
    rows = conn.execute(
        f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE owner_id = ?", (owner_id,)
    ).fetchall()
    segs = [segment_from_row(r) for r in rows]
    for seg in segs:
        seg.heat = heat_of(seg, now, settings)
        seg.recency = recency(seg.last_visit_ts, now, settings.heat_tau_hours)
    return sorted(segs, key=lambda s: -s.heat)


def maybe_enqueue_analysis(
    conn: Any, owner_id: int, sid: int, now: float, *, settings: Settings
) -> bool:
    """Queue one LLM analysis when the segment's heat reaches the threshold."""
    seg = get_segment(conn, sid)
    if seg is None or heat_of(seg, now, settings) < settings.mid_term_heat_threshold:
        return False
    if not page_store.segment_has_unanalysed(conn, sid):
        return False
    return jobs.enqueue(conn, owner_id, jobs.ANALYZE_SEGMENT, sid)


def touch(conn: Any, owner_id: int, segment_ids: list[int], *, settings: Settings) -> None:
    """A retrieval hit: N_visit + 1 and recency refreshed; may trigger analysis."""
    now = logical_now(conn, owner_id)
    for sid in dict.fromkeys(segment_ids):
        conn.execute(
            "UPDATE segments SET n_visit = n_visit + 1, last_visit_ts = ? WHERE id = ?",
            (now, sid),
        )
        maybe_enqueue_analysis(conn, owner_id, sid, now, settings=settings)


def evict_lfu(conn: Any, owner_id: int, *, capacity: int) -> list[int]:
    """Past capacity, drop least-visited segments; their pages stay in the transcript, and
    a queued analysis of one becomes an analysis of its pages (it is not lost)."""
    evicted: list[int] = []
    excess = count_segments(conn, owner_id) - capacity
    if excess <= 0:
        return evicted
    rows = conn.execute(
        "SELECT id FROM segments WHERE owner_id = ? ORDER BY n_visit, last_visit_ts, id LIMIT ?",
        (owner_id, excess),
    ).fetchall()
    for (sid,) in rows:
        waiting = page_store.newest_unanalysed_in_segment(conn, sid)
        queued = jobs.is_open(conn, jobs.ANALYZE_SEGMENT, sid)
        page_store.archive_segment(conn, sid)
        delete_segment(conn, int(sid))
        if queued and waiting is not None:
            # The segment's analysis still has to run: it moves to its pages, which stay.
            jobs.enqueue(conn, owner_id, jobs.ANALYZE_PAGES, waiting)
        evicted.append(int(sid))
    return evicted


def delete_segment(conn: Any, sid: int) -> None:
    jobs.close_open(conn, jobs.ANALYZE_SEGMENT, sid, "segment removed")
    vectors.erase(conn, "segments_vec", sid)
    conn.execute("UPDATE segments SET centroid = zeroblob(length(centroid)) WHERE id = ?", (sid,))
    conn.execute("DELETE FROM segments WHERE id = ?", (sid,))


def analysed(conn: Any, owner_id: int, sid: int, summary: str, keywords: list[str]) -> None:
    """What an analysis changes in its segment: the model's summary, its keywords first,
    and the heat reset, as in MemoryOS."""
    if summary:
        conn.execute(
            "UPDATE segments SET summary = ?, summary_source = 'llm', updated_at = ? WHERE id = ?",
            (summary, time.time(), sid),
        )
    if keywords:
        seg = get_segment(conn, sid)
        if seg is not None:
            merged = list(dict.fromkeys(keywords + seg.keywords))[:SEGMENT_KEYWORDS]
            conn.execute(
                "UPDATE segments SET keywords_json = ? WHERE id = ?", (json.dumps(merged), sid)
            )
    conn.execute(
        "UPDATE segments SET n_visit = 0, l_interaction = 0, last_visit_ts = ? WHERE id = ?",
        (logical_now(conn, owner_id), sid),
    )


def rebuild(conn: Any, owner_id: int, sid: int) -> None:
    """After losing pages (or its summary): new centroid, keywords and a keyword summary."""
    remaining = page_store.ids_in_segment(conn, sid)
    vecs = list(vectors.get(conn, "pages_vec", remaining).values())
    centroid = normalize(np.mean(np.stack(vecs), axis=0)[np.newaxis, :])[0]
    conn.execute(
        "UPDATE segments SET centroid = ?, page_count = ?, summary_source = 'keywords'"
        " WHERE id = ?",
        (vectors.blob(centroid), len(remaining), sid),
    )
    vectors.upsert(conn, "segments_vec", sid, owner_id, centroid)
    refresh_keywords(conn, sid)


def ids_of(conn: Any, owner_id: int, *, contains: str | None = None) -> list[int]:
    """The ids of the owner's segments; with `contains`, of those whose summary or
    keywords hold it."""
    return tables.ids(
        conn, "segments", owner_id, contains=contains, columns=("summary", "keywords_json")
    )


# -- reindex, export, import, erasure --------------------------------------------------


def summaries(conn: Any) -> list[tuple[int, int, str]]:
    """Every segment of every owner, in id order: (id, owner, summary)."""
    return conn.execute("SELECT id, owner_id, summary FROM segments ORDER BY id").fetchall()


def set_centroid(conn: Any, owner_id: int, sid: int, centroid: Vector) -> None:
    conn.execute("UPDATE segments SET centroid = ? WHERE id = ?", (vectors.blob(centroid), sid))
    vectors.upsert(conn, "segments_vec", sid, owner_id, centroid)


def export_rows(conn: Any, owner_id: int) -> list[Any]:
    """The owner's segments in id order: SEGMENT_COLUMNS, created_at, updated_at, centroid."""
    return conn.execute(
        f"SELECT {SEGMENT_COLUMNS}, created_at, updated_at, centroid FROM segments"
        " WHERE owner_id = ? ORDER BY id",
        (owner_id,),
    ).fetchall()


def is_empty(conn: Any) -> bool:
    """Whether the file holds no segment of anyone (an import may then keep its ids)."""
    return tables.is_empty(conn, "segments")


def restore(conn: Any, row: dict[str, Any], centroid: Vector) -> int:
    """Write an imported segment as it is given (its id kept when it has one) and its
    centroid's vector; its id."""
    sid = tables.insert(conn, "segments", row)
    vectors.upsert(conn, "segments_vec", sid, row["owner_id"], centroid)
    return sid


def erase_owner(conn: Any, owner_id: int) -> None:
    """Every segment of one owner, centroids and vectors overwritten first."""
    conn.execute(
        "UPDATE segments SET centroid = zeroblob(length(centroid)) WHERE owner_id = ?", (owner_id,)
    )
    tables.erase_owner(conn, "segments", owner_id, "segments_vec")
