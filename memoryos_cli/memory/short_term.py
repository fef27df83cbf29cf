"""Short-term memory: the newest pages, FIFO at `short_term_capacity`."""

from __future__ import annotations

import json
import time
from typing import Any

from memoryos_cli.memory.records import PAGE_COLUMNS, Page


def insert_page(
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
        " tier, created_at) VALUES (?, ?, ?, ?, ?, ?, 'short', ?)",
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


def overflow(conn: Any, owner_id: int, capacity: int) -> list[Page]:
    """Pages beyond capacity, oldest first: they leave short-term for mid-term."""
    rows = conn.execute(
        f"SELECT {PAGE_COLUMNS} FROM pages WHERE owner_id = ? AND tier = 'short' "
        "ORDER BY id DESC LIMIT -1 OFFSET ?",
        (owner_id, capacity),
    ).fetchall()
    return [Page.from_row(r) for r in reversed(rows)]


def pages(conn: Any, owner_id: int) -> list[Page]:
    rows = conn.execute(
        f"SELECT {PAGE_COLUMNS} FROM pages WHERE owner_id = ? AND tier = 'short' ORDER BY id",
        (owner_id,),
    ).fetchall()
    return [Page.from_row(r) for r in rows]
