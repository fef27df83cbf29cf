"""The transcript: every stored exchange is a page, whichever tier holds it now.

This module owns the `pages` table, its indexes (pages_fts, pages_vec, pages_bin) and the
sessions the store's triggers keep from it: every other module reads and writes pages
through these functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from memoryos_cli.memory.records import PAGE_COLUMNS, Page
from memoryos_cli.store import tables, vectors
from memoryos_cli.vector import Vector

# A page as the model reads it for analysis: id, time, what the user said, the answer.
Excerpt = tuple[int, float, str, str]
# The meta_data key that marks an answer memoryos's own chat model wrote (its value: the
# model's name). Such an answer is the model's words, never evidence of what the user said.
ANSWERED_BY = "answered_by"
EXPORT_COLUMNS = (
    "id, user_input, agent_response, ts, tier, segment_id, meta_json, keywords_json,"
    " analyzed, created_at"
)


def insert(
    conn: Any,
    owner_id: int,
    user_input: str,
    agent_response: str,
    ts: float,
    meta: dict[str, Any],
    keywords: list[str],
) -> int:
    """Append one exchange to the transcript as a short-term page; its vector is the
    caller's to write in the same transaction (`vectors.upsert` into pages_vec)."""
    cur = conn.execute(
        "INSERT INTO pages(owner_id, user_input, agent_response, ts, meta_json, keywords_json,"
        f" tier, created_at, id) VALUES (?, ?, ?, ?, ?, ?, 'short', ?, {tables.new_id('pages')})",
        (
            owner_id,
            user_input,
            agent_response,
            ts,
            json.dumps(meta, ensure_ascii=False),
            json.dumps(keywords),
            time.time(),
        ),
    )
    return int(cur.lastrowid)


# -- reading ---------------------------------------------------------------------------


def load(
    conn: Any, owner_id: int, ids: list[int] | None = None, limit: int | None = None
) -> list[Page]:
    """The owner's pages in id order: all of them, those in `ids`, or the newest `limit`."""
    sql = f"SELECT {PAGE_COLUMNS} FROM pages WHERE owner_id = ?"
    params: list[Any] = [owner_id]
    if ids is not None:
        if not ids:
            return []
        sql += f" AND id IN ({','.join('?' * len(ids))})"
        params += ids
    sql += " ORDER BY id"
    if limit is not None:
        sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) ORDER BY id"
    return [Page.from_row(r) for r in conn.execute(sql, params).fetchall()]


def in_tier(conn: Any, owner_id: int, tier: str, *, beyond: int = 0) -> list[Page]:
    """The owner's pages in one tier ('short', 'mid' or 'archive'), oldest first, less its
    newest `beyond`."""
    found = conn.execute(
        f"SELECT {PAGE_COLUMNS} FROM pages WHERE owner_id = ? AND tier = ? "
        "ORDER BY id DESC LIMIT -1 OFFSET ?",
        (owner_id, tier, beyond),
    ).fetchall()
    return [Page.from_row(r) for r in reversed(found)]


def in_segment(conn: Any, segment_id: int) -> list[Page]:
    """The pages of one mid-term segment, oldest first."""
    found = conn.execute(
        f"SELECT {PAGE_COLUMNS} FROM pages WHERE segment_id = ? ORDER BY id", (segment_id,)
    ).fetchall()
    return [Page.from_row(r) for r in found]


def ids_in_segment(conn: Any, segment_id: int) -> list[int]:
    found = conn.execute("SELECT id FROM pages WHERE segment_id = ?", (segment_id,)).fetchall()
    return [int(r[0]) for r in found]


def segment_keywords(conn: Any, segment_id: int, newest: int) -> list[list[str]]:
    """The keywords of the segment's `newest` pages, oldest first."""
    found = conn.execute(
        "SELECT keywords_json FROM (SELECT id, keywords_json FROM pages WHERE segment_id = ?"
        " ORDER BY id DESC LIMIT ?) ORDER BY id",
        (segment_id, newest),
    ).fetchall()
    return [json.loads(r[0]) for r in found]


def segments_of(conn: Any, owner_id: int) -> dict[int, int | None]:
    """Each of the owner's pages with its segment (None outside mid-term)."""
    found = conn.execute("SELECT id, segment_id FROM pages WHERE owner_id = ?", (owner_id,))
    return {int(r[0]): r[1] for r in found}


def ids_of(conn: Any, owner_id: int, *, contains: str | None = None) -> list[int]:
    """The ids of the owner's pages; with `contains`, of those with either side holding it."""
    return tables.ids(
        conn, "pages", owner_id, contains=contains, columns=("user_input", "agent_response")
    )


def existing_ids(conn: Any, owner_id: int, ids: list[int]) -> set[int]:
    """Which of `ids` are still the owner's pages (a forget may have taken some)."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    found = conn.execute(
        f"SELECT id FROM pages WHERE owner_id = ? AND id IN ({marks})", [owner_id, *ids]
    ).fetchall()
    return {int(r[0]) for r in found}


def openings(conn: Any, ids: list[int], chars: int) -> dict[int, tuple[str, str]]:
    """The first `chars` characters of both sides of each page (not every page's whole text)."""
    out = {}
    columns = f"id, substr(user_input, 1, {chars}), substr(agent_response, 1, {chars})"
    for at in range(0, len(ids), 500):
        chunk = ids[at : at + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {columns} FROM pages WHERE id IN ({marks})", chunk):
            out[int(row[0])] = (row[1], row[2])
    return out


def newest_ids(conn: Any, owner_id: int, n: int) -> list[int]:
    """The ids of the owner's newest `n` pages, oldest first."""
    found = conn.execute(
        "SELECT id FROM pages WHERE owner_id = ? ORDER BY id DESC LIMIT ?", (owner_id, n)
    ).fetchall()
    return sorted(int(r[0]) for r in found)


def latest_id(conn: Any, owner_id: int) -> int | None:
    """The id of the owner's newest page; None before the first."""
    row = conn.execute("SELECT MAX(id) FROM pages WHERE owner_id = ?", (owner_id,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def logical_now(conn: Any, owner_id: int) -> float:
    """The latest exchange time of this owner.

    Heat recency is measured against it rather than the wall clock, so imported or
    back-dated conversations (LoCoMo spans months) age the way they happened.
    """
    row = conn.execute("SELECT MAX(ts) FROM pages WHERE owner_id = ?", (owner_id,)).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def count(conn: Any, owner_id: int, tier: str | None = None) -> int:
    """How many pages the owner has (in one tier: 'short', 'mid' or 'archive')."""
    sql = "SELECT COUNT(*) FROM pages WHERE owner_id = ?"
    params: list[Any] = [owner_id]
    if tier is not None:
        sql += " AND tier = ?"
        params.append(tier)
    return int(conn.execute(sql, params).fetchone()[0])


def texts(conn: Any) -> list[tuple[int, int, str, str, int | None]]:
    """Every page of every owner, in id order: (id, owner, user input, answer, segment)."""
    return conn.execute(
        "SELECT id, owner_id, user_input, agent_response, segment_id FROM pages ORDER BY id"
    ).fetchall()


# -- tiers -----------------------------------------------------------------------------


def move_to_segment(conn: Any, page_id: int, segment_id: int) -> None:
    """A page leaves short-term for a mid-term segment."""
    conn.execute(
        "UPDATE pages SET tier = 'mid', segment_id = ? WHERE id = ?", (segment_id, page_id)
    )


def archive_segment(conn: Any, segment_id: int) -> None:
    """The pages of an evicted segment stay in the transcript, in no tier's search."""
    conn.execute(
        "UPDATE pages SET tier = 'archive', segment_id = NULL WHERE segment_id = ?", (segment_id,)
    )


def join_segment(conn: Any, ids: list[int], segment_id: int) -> None:
    """Put pages in a segment, their tier as it is (an import rebuilding its segments)."""
    marks = ",".join("?" * len(ids))
    conn.execute(f"UPDATE pages SET segment_id = ? WHERE id IN ({marks})", [segment_id, *ids])


# -- analysis --------------------------------------------------------------------------


def unanalysed_ids(conn: Any, owner_id: int, up_to: int | None = None) -> list[int]:
    sql = "SELECT id FROM pages WHERE owner_id = ? AND analyzed = 0"
    params: list[Any] = [owner_id]
    if up_to is not None:
        sql += " AND id <= ?"
        params.append(up_to)
    return [int(r[0]) for r in conn.execute(sql + " ORDER BY id", params).fetchall()]


def unanalysed_after(conn: Any, owner_id: int, after: int) -> tuple[int, int | None]:
    """How many of the owner's pages after id `after` wait for analysis, and the newest
    one's id. Counted in SQL over the pages_unanalysed index: this runs on every add."""
    waiting, newest = conn.execute(
        "SELECT COUNT(*), MAX(id) FROM pages WHERE owner_id = ? AND analyzed = 0 AND id > ?",
        (owner_id, after),
    ).fetchone()
    return int(waiting), None if newest is None else int(newest)


def _unanalysed(conn: Any, where: str, params: list[Any], limit: int) -> list[Excerpt]:
    found = conn.execute(
        f"SELECT id, ts, user_input, agent_response FROM pages WHERE {where} AND analyzed = 0"
        " ORDER BY id LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [(int(r[0]), float(r[1]), r[2], r[3]) for r in found]


def answered_by_model(conn: Any, ids: Iterable[int]) -> frozenset[int]:
    """Which of these pages hold an answer memoryos's own chat model wrote."""
    wanted = list(ids)
    if not wanted:
        return frozenset()
    found = conn.execute(
        f"SELECT id FROM pages WHERE id IN ({','.join('?' * len(wanted))})"
        f" AND json_extract(meta_json, '$.{ANSWERED_BY}') IS NOT NULL",
        wanted,
    ).fetchall()
    return frozenset(int(r[0]) for r in found)


def unanalysed_up_to(conn: Any, owner_id: int, up_to: int, limit: int) -> list[Excerpt]:
    """The owner's oldest `limit` unanalysed pages up to id `up_to`."""
    return _unanalysed(conn, "owner_id = ? AND id <= ?", [owner_id, up_to], limit)


def unanalysed_in_segment(conn: Any, segment_id: int, limit: int) -> list[Excerpt]:
    """The oldest `limit` unanalysed pages of a segment."""
    return _unanalysed(conn, "segment_id = ?", [segment_id], limit)


def segment_has_unanalysed(conn: Any, segment_id: int) -> bool:
    found = conn.execute(
        "SELECT 1 FROM pages WHERE segment_id = ? AND analyzed = 0 LIMIT 1", (segment_id,)
    ).fetchone()
    return found is not None


def newest_unanalysed_in_segment(conn: Any, segment_id: int) -> int | None:
    row = conn.execute(
        "SELECT MAX(id) FROM pages WHERE segment_id = ? AND analyzed = 0", (segment_id,)
    ).fetchone()
    return None if row[0] is None else int(row[0])


def mark_analyzed(conn: Any, ids: list[int]) -> None:
    """Record that consolidation has read these pages."""
    marks = ",".join("?" * len(ids))
    conn.execute(f"UPDATE pages SET analyzed = 1 WHERE id IN ({marks})", ids)


def mark_all_analyzed(conn: Any, owner_id: int, *, but_from: int | None = None) -> None:
    """Record every page of the owner as read by consolidation, but those from id
    `but_from` on (a history loaded as already digested)."""
    conn.execute("UPDATE pages SET analyzed = 1 WHERE owner_id = ?", (owner_id,))
    if but_from is not None:
        conn.execute(
            "UPDATE pages SET analyzed = 0 WHERE owner_id = ? AND id >= ?", (owner_id, but_from)
        )


# -- export, import, erasure -----------------------------------------------------------


def export_rows(conn: Any, owner_id: int) -> list[Any]:
    """The owner's pages as stored, in id order (EXPORT_COLUMNS)."""
    return conn.execute(
        f"SELECT {EXPORT_COLUMNS} FROM pages WHERE owner_id = ? ORDER BY id", (owner_id,)
    ).fetchall()


def keys(conn: Any, owner_id: int) -> dict[tuple[float, str, str], list[int]]:
    """The owner's pages by what makes one the same exchange: (ts, user input, answer);
    the same words at the same time twice are two pages, in id order."""
    found = conn.execute(
        "SELECT id, ts, user_input, agent_response FROM pages WHERE owner_id = ? ORDER BY id",
        (owner_id,),
    )
    out: dict[tuple[float, str, str], list[int]] = {}
    for r in found:
        out.setdefault((float(r[1]), r[2], r[3]), []).append(int(r[0]))
    return out


def is_empty(conn: Any) -> bool:
    """Whether the file holds no page of anyone (an import may then keep its ids)."""
    return tables.is_empty(conn, "pages")


def restore(conn: Any, row: dict[str, Any], vec: Vector) -> int:
    """Write an imported page as it is given (its id kept when it has one) and its
    vector; its id."""
    page_id = tables.insert(conn, "pages", row)
    vectors.upsert(conn, "pages_vec", page_id, row["owner_id"], vec)
    return page_id


def delete(conn: Any, ids: Iterable[int]) -> None:
    """Erase pages, their vectors first (their FTS entries and sessions follow by trigger)."""
    tables.delete(conn, "pages", ids, "pages_vec")


def erase_owner(conn: Any, owner_id: int) -> None:
    """Every page of one owner, vectors first."""
    conn.execute("UPDATE pages SET segment_id = NULL WHERE owner_id = ?", (owner_id,))
    tables.erase_owner(conn, "pages", owner_id, "pages_vec")
