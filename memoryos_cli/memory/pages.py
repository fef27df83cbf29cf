"""The transcript: every stored exchange is a page, whichever tier holds it now."""

from __future__ import annotations

from typing import Any

from memoryos_cli.memory.records import PAGE_COLUMNS, Page


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


def existing_ids(conn: Any, owner_id: int, ids: list[int]) -> set[int]:
    """Which of `ids` are still the owner's pages (a forget may have taken some)."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT id FROM pages WHERE owner_id = ? AND id IN ({marks})", [owner_id, *ids]
    ).fetchall()
    return {int(r[0]) for r in rows}


def mark_analyzed(conn: Any, ids: list[int]) -> None:
    """Record that consolidation has read these pages."""
    marks = ",".join("?" * len(ids))
    conn.execute(f"UPDATE pages SET analyzed = 1 WHERE id IN ({marks})", ids)


def newest_ids(conn: Any, owner_id: int, n: int) -> list[int]:
    """The ids of the owner's newest `n` pages, oldest first."""
    rows = conn.execute(
        "SELECT id FROM pages WHERE owner_id = ? ORDER BY id DESC LIMIT ?", (owner_id, n)
    ).fetchall()
    return sorted(int(r[0]) for r in rows)


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


def mark_all_analyzed(conn: Any, owner_id: int, *, but_from: int | None = None) -> None:
    """Record every page of the owner as read by consolidation, but those from id
    `but_from` on (a history loaded as already digested)."""
    conn.execute("UPDATE pages SET analyzed = 1 WHERE owner_id = ?", (owner_id,))
    if but_from is not None:
        conn.execute(
            "UPDATE pages SET analyzed = 0 WHERE owner_id = ? AND id >= ?", (owner_id, but_from)
        )
