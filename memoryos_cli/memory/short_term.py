"""Short-term memory: the newest pages, FIFO at `short_term_capacity`."""

from __future__ import annotations

from typing import Any

from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.records import Page


def overflow(conn: Any, owner_id: int, capacity: int) -> list[Page]:
    """Pages beyond capacity, oldest first: they leave short-term for mid-term."""
    return page_store.in_tier(conn, owner_id, "short", beyond=capacity)


def pages(conn: Any, owner_id: int) -> list[Page]:
    return page_store.in_tier(conn, owner_id, "short")
