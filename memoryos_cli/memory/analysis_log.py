"""What the consolidation rules did in the last analyses: each item of a reply, kept,
dropped, moved or changed, by which rule and why (`memoryos memory why`).

Only the newest KEEP_ANALYSES analyses of a user are held. The log is diagnostics derived
from pages, so any forget clears the user's log whole: nothing forgotten survives in it,
and nothing of value is lost. It is not exported.

This module owns the `analysis_log` table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memoryos_cli.memory.rules import Note
from memoryos_cli.store import tables

KEEP_ANALYSES = 20
# The job ids of one owner's newest analyses (parameters: owner, how many).
NEWEST = (
    "SELECT job_id FROM analysis_log WHERE owner_id = ?"
    " GROUP BY job_id ORDER BY MAX(at) DESC, job_id DESC LIMIT ?"
)


@dataclass(frozen=True)
class Entry:
    """One note of one analysis, as stored."""

    job_id: int
    at: float
    note: Note


def record(conn: Any, owner_id: int, job_id: int, notes: Sequence[Note]) -> None:
    """Write one analysis's notes (a rerun of the job replaces its earlier ones) and drop
    the analyses past the newest KEEP_ANALYSES."""
    now = time.time()
    conn.execute("DELETE FROM analysis_log WHERE owner_id = ? AND job_id = ?", (owner_id, job_id))
    conn.executemany(
        "INSERT INTO analysis_log (owner_id, job_id, at, rule, action, kind, item, result,"
        " reason, source_page_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (owner_id, job_id, now, n.rule, n.action, n.kind, n.item, n.result, n.reason,
             json.dumps(list(n.sources)))
            for n in notes
        ],
    )  # fmt: skip
    conn.execute(
        f"DELETE FROM analysis_log WHERE owner_id = ? AND job_id NOT IN ({NEWEST})",
        (owner_id, owner_id, KEEP_ANALYSES),
    )


def entries(conn: Any, owner_id: int, analyses: int = 1) -> list[Entry]:
    """The notes of the newest `analyses` analyses, oldest analysis first, in the order the
    rules wrote them."""
    rows = conn.execute(
        "SELECT job_id, at, rule, action, kind, item, result, reason, source_page_ids"
        f" FROM analysis_log WHERE owner_id = ? AND job_id IN ({NEWEST})"
        " ORDER BY at, job_id, id",
        (owner_id, owner_id, analyses),
    ).fetchall()
    return [
        Entry(
            int(job_id),
            float(at),
            Note(rule, action, kind, item, result, reason, tuple(json.loads(sources))),
        )
        for job_id, at, rule, action, kind, item, result, reason, sources in rows
    ]


def erase_owner(conn: Any, owner_id: int) -> None:
    tables.erase_owner(conn, "analysis_log", owner_id)
