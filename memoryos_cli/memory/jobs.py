"""The consolidation job queue, persisted in the memory file so a crash loses nothing.

A job is claimed by one process, run outside any transaction, and finished in the same
transaction that applies its result. A claim names its process by host, pid and the
time the process started, so a claim whose process died is reclaimed even when the
pid has since been reused by another process.

This module owns the `jobs` table.
"""

from __future__ import annotations

import functools
import os
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memoryos_cli.store import tables

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


def started(pid: int) -> str | None:
    """When process `pid` started, as an opaque token; None when it cannot be told.

    Linux: the start time in clock ticks since boot (/proc/PID/stat, field 22);
    elsewhere `ps -o lstart=` (macOS and the BSDs).
    """
    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return stat.rpartition(")")[2].split()[19]  # fields after the command name start at 3
    try:
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return "".join(ch for ch in out if ch.isalnum()) or None


@functools.cache
def _me(pid: int) -> str:
    return f"{os.uname().nodename}:{pid}:{started(pid) or '-'}"


def me() -> str:
    """This process, as a claim names it: host:pid:start (a forked child is another)."""
    return _me(os.getpid())


def enqueue(conn: Any, owner_id: int, kind: str, target_id: int) -> bool:
    """Queue a job unless one is already open for the same target (then it covers this)."""
    now = time.time()
    cur = conn.execute(
        "INSERT OR IGNORE INTO jobs(owner_id, kind, target_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (owner_id, kind, target_id, now, now),
    )
    return bool(cur.rowcount)


def is_open(conn: Any, kind: str, target_id: int) -> bool:
    """Whether a job of `kind` about `target_id` waits or runs."""
    found = conn.execute(
        "SELECT 1 FROM jobs WHERE kind = ? AND target_id = ? AND state IN ('pending', 'running')",
        (kind, target_id),
    ).fetchone()
    return found is not None


def newest_open_target(conn: Any, owner_id: int, kind: str) -> int | None:
    """The highest target of the owner's open jobs of `kind` (for ANALYZE_PAGES: the newest
    page already covered)."""
    row = conn.execute(
        "SELECT MAX(target_id) FROM jobs WHERE owner_id = ? AND kind = ?"
        " AND state IN ('pending', 'running')",
        (owner_id, kind),
    ).fetchone()
    return None if row[0] is None else int(row[0])


def close_open(conn: Any, kind: str, target_id: int, reason: str) -> None:
    """Mark the open jobs of `kind` about `target_id` done without running them."""
    conn.execute(
        "UPDATE jobs SET state = 'done', error = ?"
        " WHERE kind = ? AND target_id = ? AND state IN ('pending', 'running')",
        (reason, kind, target_id),
    )


def _claim_is_dead(claimed_by: str | None, claimed_at: float | None) -> bool:
    """A claim is dead when its process is gone, its pid now belongs to a process that
    started at another time, or, when that cannot be told (another host, a claim from an
    older memoryos without a start time), it is older than STALE_CLAIM_SECONDS."""
    if not claimed_by:
        return True
    expired = (time.time() - (claimed_at or 0)) > STALE_CLAIM_SECONDS
    host, _, rest = claimed_by.partition(":")
    pid, _, start = rest.partition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return expired
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's: the start time still tells whether it is ours
    now = started(int(pid))
    if start and start != "-" and now is not None:
        return now != start
    return expired


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


def give_back(conn: Any, job: Job) -> None:
    """Return a claimed job to the queue untouched: this attempt does not count."""
    conn.execute(
        "UPDATE jobs SET state = 'pending', attempts = attempts - 1, claimed_by = NULL,"
        " updated_at = ? WHERE id = ? AND owner_id = ?",
        (time.time(), job.id, job.owner_id),
    )


def release(conn: Any, job: Job, error: str) -> None:
    """Give the job back (or fail it for good after MAX_ATTEMPTS)."""
    state = "failed" if job.attempts >= MAX_ATTEMPTS else "pending"
    conn.execute(
        "UPDATE jobs SET state = ?, error = ?, claimed_by = NULL, updated_at = ? WHERE id = ?",
        (state, error[:500], time.time(), job.id),
    )


def open_ids(conn: Any, owner_id: int) -> set[int]:
    """The ids of the owner's jobs waiting or running."""
    rows = conn.execute(
        "SELECT id FROM jobs WHERE owner_id = ? AND state IN ('pending', 'running')", (owner_id,)
    ).fetchall()
    return {int(r[0]) for r in rows}


def counts(conn: Any, owner_id: int) -> dict[str, int]:
    rows = conn.execute(
        "SELECT state, COUNT(*) FROM jobs WHERE owner_id = ? GROUP BY state", (owner_id,)
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def mark_all_done(conn: Any, owner_id: int, reason: str) -> None:
    """Every job of the owner done, `reason` as its note (a history loaded as digested)."""
    conn.execute("UPDATE jobs SET state = 'done', error = ? WHERE owner_id = ?", (reason, owner_id))


# -- export, import, erasure -----------------------------------------------------------

EXPORT_COLUMNS = "id, kind, target_id, state, attempts, error, created_at, updated_at"


def export_rows(conn: Any, owner_id: int) -> list[Any]:
    """The owner's jobs as stored, in id order (EXPORT_COLUMNS)."""
    return conn.execute(
        f"SELECT {EXPORT_COLUMNS} FROM jobs WHERE owner_id = ? ORDER BY id", (owner_id,)
    ).fetchall()


def is_empty(conn: Any) -> bool:
    """Whether the file holds no job of anyone (an import may then keep its ids)."""
    return tables.is_empty(conn, "jobs")


def restore(conn: Any, row: dict[str, Any]) -> int:
    """Write an imported job as it is given (its id kept when it has one); its id."""
    return tables.insert(conn, "jobs", row)


def erase_owner(conn: Any, owner_id: int) -> None:
    tables.erase_owner(conn, "jobs", owner_id)
