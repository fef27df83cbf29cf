"""Mid-term memory: topic segments of pages, with heat and LFU eviction (MemoryOS)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import numpy as np

from memoryos_cli.config import Settings
from memoryos_cli.embed import Vector, normalize
from memoryos_cli.memory import jobs
from memoryos_cli.memory.heat import recency, segment_heat
from memoryos_cli.memory.keywords import jaccard
from memoryos_cli.memory.pages import logical_now
from memoryos_cli.memory.records import PAGE_COLUMNS, Page, Segment
from memoryos_cli.store import vectors

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
    for sid, cos in candidates:
        score = cos + jaccard(words, kw.get(sid, []))
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
    conn.execute("UPDATE pages SET tier = 'mid', segment_id = ? WHERE id = ?", (sid, page.id))
    refresh_keywords(conn, sid)
    maybe_enqueue_analysis(conn, owner_id, sid, now, settings=settings)
    evict_lfu(conn, owner_id, capacity=settings.mid_term_capacity)
    return sid


def _create_segment(conn: Any, owner_id: int, page: Page, vec: Vector, now: float) -> int:
    cur = conn.execute(
        "INSERT INTO segments(owner_id, summary, keywords_json, n_visit, l_interaction,"
        " last_visit_ts, page_count, centroid, created_at, updated_at)"
        " VALUES (?, ?, ?, 0, 1, ?, 1, ?, ?, ?)",
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
    for (kw_json,) in conn.execute(
        "SELECT keywords_json FROM (SELECT id, keywords_json FROM pages WHERE segment_id = ?"
        " ORDER BY id DESC LIMIT ?) ORDER BY id",
        (sid, KEYWORD_PAGES),
    ):
        counts.update(json.loads(kw_json))
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
    unanalysed = conn.execute(
        "SELECT 1 FROM pages WHERE segment_id = ? AND analyzed = 0 LIMIT 1", (sid,)
    ).fetchone()
    if unanalysed is None:
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
        waiting = conn.execute(
            "SELECT MAX(id) FROM pages WHERE segment_id = ? AND analyzed = 0", (sid,)
        ).fetchone()[0]
        queued = conn.execute(
            "SELECT 1 FROM jobs WHERE kind = ? AND target_id = ?"
            " AND state IN ('pending', 'running')",
            (jobs.ANALYZE_SEGMENT, sid),
        ).fetchone()
        conn.execute(
            "UPDATE pages SET tier = 'archive', segment_id = NULL WHERE segment_id = ?", (sid,)
        )
        delete_segment(conn, int(sid))
        if queued is not None and waiting is not None:
            # The segment's analysis still has to run: it moves to its pages, which stay.
            jobs.enqueue(conn, owner_id, jobs.ANALYZE_PAGES, int(waiting))
        evicted.append(int(sid))
    return evicted


def delete_segment(conn: Any, sid: int) -> None:
    conn.execute(
        "UPDATE jobs SET state = 'done', error = 'segment removed'"
        " WHERE kind = ? AND target_id = ? AND state IN ('pending', 'running')",
        (jobs.ANALYZE_SEGMENT, sid),
    )
    vectors.erase(conn, "segments_vec", sid)
    conn.execute("UPDATE segments SET centroid = zeroblob(length(centroid)) WHERE id = ?", (sid,))
    conn.execute("DELETE FROM segments WHERE id = ?", (sid,))


def segment_pages(conn: Any, sid: int) -> list[Page]:
    rows = conn.execute(
        f"SELECT {PAGE_COLUMNS} FROM pages WHERE segment_id = ? ORDER BY id", (sid,)
    ).fetchall()
    return [Page.from_row(r) for r in rows]
