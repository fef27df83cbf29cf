"""The consolidation job queue, persisted in the memory file so a crash loses nothing.

A job is claimed by one process (pid), run outside any transaction, and finished in
the same transaction that applies its result. A claim whose process died is reclaimed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

ANALYZE_SEGMENT = "analyze_segment"
ANALYZE_PAGES = "analyze_pages"  # target: the newest page id of the batch
MAX_ATTEMPTS = 3
STALE_CLAIM_SECONDS = 15 * 60


@dataclass
class Job:
    id: int
    owner_id: int
    kind: str
    target_id: int
    attempts: int


def me() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def enqueue(conn: Any, owner_id: int, kind: str, target_id: int) -> bool:
    """Queue a job unless one is already open for the same target (then it covers this)."""
    now = time.time()
    cur = conn.execute(
        "INSERT OR IGNORE INTO jobs(owner_id, kind, target_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (owner_id, kind, target_id, now, now),
    )
    return bool(cur.rowcount)


def _claim_is_dead(claimed_by: str | None, claimed_at: float | None) -> bool:
    if not claimed_by:
        return True
    host, _, pid = claimed_by.rpartition(":")
    if host == os.uname().nodename and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return (time.time() - (claimed_at or 0)) > STALE_CLAIM_SECONDS


def recover(conn: Any) -> int:
    """Return jobs claimed by processes that no longer exist to the queue."""
    rows = conn.execute(
        "SELECT id, claimed_by, claimed_at FROM jobs WHERE state = 'running'"
    ).fetchall()
    dead = [int(r[0]) for r in rows if _claim_is_dead(r[1], r[2])]
    for job_id in dead:
        conn.execute(
            "UPDATE jobs SET state = 'pending', claimed_by = NULL, updated_at = ? WHERE id = ?",
            (time.time(), job_id),
        )
    return len(dead)


def claim(conn: Any, owner_id: int | None = None, skip: Collection[int] = ()) -> Job | None:
    """Take the oldest pending job (of one owner, or any), leaving out the ids in `skip`."""
    sql = "SELECT id, owner_id, kind, target_id, attempts FROM jobs WHERE state = 'pending'"
    params: list[Any] = []
    if owner_id is not None:
        sql += " AND owner_id = ?"
        params.append(owner_id)
    if skip:
        sql += f" AND id NOT IN ({','.join('?' * len(skip))})"
        params.extend(skip)
    row = conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
    if row is None:
        return None
    job = Job(int(row[0]), int(row[1]), row[2], int(row[3]), int(row[4]) + 1)
    conn.execute(
        "UPDATE jobs SET state = 'running', attempts = ?, claimed_by = ?, claimed_at = ?,"
        " updated_at = ? WHERE id = ?",
        (job.attempts, me(), time.time(), time.time(), job.id),
    )
    return job


def still_mine(conn: Any, job: Job) -> bool:
    row = conn.execute("SELECT state, claimed_by FROM jobs WHERE id = ?", (job.id,)).fetchone()
    return row is not None and row[0] == "running" and row[1] == me()


def finish(conn: Any, job: Job, error: str | None = None) -> None:
    conn.execute(
        "UPDATE jobs SET state = 'done', error = ?, claimed_by = NULL, updated_at = ? WHERE id = ?",
        (error, time.time(), job.id),
    )


def release(conn: Any, job: Job, error: str) -> None:
    """Give the job back (or fail it for good after MAX_ATTEMPTS)."""
    state = "failed" if job.attempts >= MAX_ATTEMPTS else "pending"
    conn.execute(
        "UPDATE jobs SET state = ?, error = ?, claimed_by = NULL, updated_at = ? WHERE id = ?",
        (state, error[:500], time.time(), job.id),
    )


def counts(conn: Any, owner_id: int) -> dict[str, int]:
    rows = conn.execute(
        "SELECT state, COUNT(*) FROM jobs WHERE owner_id = ? GROUP BY state", (owner_id,)
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
