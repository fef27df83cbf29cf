"""Short-term memory: the newest pages, FIFO at `short_term_capacity`."""

from __future__ import annotations

import json
import time
from typing import Any

from memoryos_cli.embed import Vector
from memoryos_cli.memory.records import PAGE_COLUMNS, Page
from memoryos_cli.store import vectors


def insert_page(
    conn: Any,
    owner_id: int,
    user_input: str,
    agent_response: str,
    ts: float,
    meta: dict[str, Any],
    keywords: list[str],
    vec: Vector,
) -> int:
    """Append one exchange to the transcript as a short-term page, with its vector."""
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
    page_id = int(cur.lastrowid)
    vectors.upsert(conn, "pages_vec", page_id, owner_id, vec)
    return page_id


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
