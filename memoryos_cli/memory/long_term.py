"""Long-term memory: the user profile and the user/assistant knowledge bases.

A new profile value for an attribute supersedes the old one; `add_fact` can link the
facts a new one supersedes. Superseded rows stay as history, linked by `superseded_by`.
An identical (or near-identical) fact only gains evidence.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from memoryos_cli.embed import Vector
from memoryos_cli.memory.records import Fact, ProfileItem
from memoryos_cli.store import vectors

DUPLICATE_SIMILARITY = 0.95
PROFILE_COLUMNS = (
    "id, attribute, value, evidence_count, source_page_ids, ts, updated_at, superseded_by"
)
FACT_COLUMNS = (
    "id, kind, text, evidence_count, source_page_ids, ts, updated_at, superseded_by, archived"
)


# Words a model puts before an attribute that name the list, not the attribute: echoing
# "profile name: Caroline" from what it was shown, Qwen 1.5B wrote "profile_name", then
# "profile_profile_name", a new row each session next to "name".
ATTRIBUTE_PREFIXES = re.compile(r"^(?:(?:profile|user_s|users|user|the)_)+")


def normalize_attribute(name: str) -> str:
    """ "City", "profile city", "User's city" -> "city": one row per attribute."""
    attr = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return (ATTRIBUTE_PREFIXES.sub("", attr) or attr)[:64] or "note"


def normalized(text: str) -> str:
    """Lowercase words joined by single spaces: "Same  thing!" == "same thing"."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _merge_ids(old_json: str, new: list[int]) -> str:
    return json.dumps(sorted(set(json.loads(old_json)) | set(new)))


def profile_from_row(row: Any) -> ProfileItem:
    return ProfileItem(
        id=int(row[0]),
        attribute=row[1],
        value=row[2],
        evidence_count=int(row[3]),
        source_page_ids=json.loads(row[4]),
        ts=float(row[5]),
        updated_at=float(row[6]),
        superseded_by=None if row[7] is None else int(row[7]),
    )


def fact_from_row(row: Any) -> Fact:
    return Fact(
        id=int(row[0]),
        kind=row[1],
        text=row[2],
        evidence_count=int(row[3]),
        source_page_ids=json.loads(row[4]),
        ts=float(row[5]),
        updated_at=float(row[6]),
        superseded_by=None if row[7] is None else int(row[7]),
        archived=bool(row[8]),
    )


def profile(conn: Any, owner_id: int, *, history: bool = False) -> list[ProfileItem]:
    sql = f"SELECT {PROFILE_COLUMNS} FROM profile_items WHERE owner_id = ?"
    if not history:
        sql += " AND superseded_by IS NULL"
    rows = conn.execute(sql + " ORDER BY attribute, id", (owner_id,)).fetchall()
    return [profile_from_row(r) for r in rows]


def count_profile(conn: Any, owner_id: int) -> int:
    """How many current (not superseded) profile items the owner has."""
    row = conn.execute(
        "SELECT COUNT(*) FROM profile_items WHERE owner_id = ? AND superseded_by IS NULL",
        (owner_id,),
    ).fetchone()
    return int(row[0])


def upsert_profile(
    conn: Any, owner_id: int, attribute: str, value: str, sources: list[int], ts: float
) -> int:
    """Same value: more evidence. New value: a new row that supersedes the current one."""
    attr, value = normalize_attribute(attribute), value.strip()
    now = time.time()
    current = conn.execute(
        "SELECT id, value, source_page_ids FROM profile_items"
        " WHERE owner_id = ? AND attribute = ? AND superseded_by IS NULL",
        (owner_id, attr),
    ).fetchone()
    if current is not None and normalized(current[1]) == normalized(value):
        conn.execute(
            "UPDATE profile_items SET evidence_count = evidence_count + 1,"
            " source_page_ids = ?, updated_at = ?, ts = MAX(ts, ?) WHERE id = ?",
            (_merge_ids(current[2], sources), now, ts, current[0]),
        )
        return int(current[0])
    cur = conn.execute(
        "INSERT INTO profile_items(owner_id, attribute, value, source_page_ids, ts, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (owner_id, attr, value, json.dumps(sorted(set(sources))), ts, now, now),
    )
    new_id = int(cur.lastrowid)
    if current is not None:
        conn.execute(
            "UPDATE profile_items SET superseded_by = ?, updated_at = ? WHERE id = ?",
            (new_id, now, current[0]),
        )
    return new_id


def facts(
    conn: Any, owner_id: int, kind: str | None = None, *, history: bool = False
) -> list[Fact]:
    sql = f"SELECT {FACT_COLUMNS} FROM knowledge WHERE owner_id = ?"
    params: list[Any] = [owner_id]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    if not history:
        sql += " AND superseded_by IS NULL AND archived = 0"
    rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [fact_from_row(r) for r in rows]


def count_facts(conn: Any, owner_id: int, kind: str) -> int:
    """How many active (neither superseded nor archived) facts of `kind` the owner has."""
    row = conn.execute(
        "SELECT COUNT(*) FROM knowledge WHERE owner_id = ? AND kind = ?"
        " AND superseded_by IS NULL AND archived = 0",
        (owner_id, kind),
    ).fetchone()
    return int(row[0])


def add_fact(
    conn: Any,
    owner_id: int,
    kind: str,
    text: str,
    vec: Vector,
    sources: list[int],
    ts: float,
    supersedes: list[int] = (),  # type: ignore[assignment]
    capacity: int = 100,
) -> int:
    """Store a fact unless an active one says the same; link what it supersedes.

    A fact said again keeps the date it was first said: its words ("yesterday (7 May
    2023)") were written against that day, and the prompt shows it under that date."""
    text = text.strip()
    now = time.time()
    for fid, sim in vectors.knn(conn, "knowledge_vec", owner_id, vec, 5):
        row = conn.execute(
            "SELECT text, source_page_ids, kind FROM knowledge"
            " WHERE id = ? AND superseded_by IS NULL AND archived = 0",
            (fid,),
        ).fetchone()
        if row is None or row[2] != kind:
            continue
        if normalized(row[0]) == normalized(text) or sim >= DUPLICATE_SIMILARITY:
            conn.execute(
                "UPDATE knowledge SET evidence_count = evidence_count + 1, source_page_ids = ?,"
                " updated_at = ?, ts = MIN(ts, ?) WHERE id = ?",
                (_merge_ids(row[1], sources), now, ts, fid),
            )
            return fid
    cur = conn.execute(
        "INSERT INTO knowledge(owner_id, kind, text, source_page_ids, ts, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (owner_id, kind, text, json.dumps(sorted(set(sources))), ts, now, now),
    )
    new_id = int(cur.lastrowid)
    vectors.upsert(conn, "knowledge_vec", new_id, owner_id, vec)
    for old in supersedes:
        conn.execute(
            "UPDATE knowledge SET superseded_by = ?, updated_at = ?"
            " WHERE id = ? AND owner_id = ? AND superseded_by IS NULL AND id != ?",
            (new_id, now, old, owner_id, new_id),
        )
    _enforce_capacity(conn, owner_id, kind, capacity)
    return new_id


def _enforce_capacity(conn: Any, owner_id: int, kind: str, capacity: int) -> None:
    """Keep at most `capacity` active facts per kind: the least recently updated retire."""
    conn.execute(
        "UPDATE knowledge SET archived = 1 WHERE id IN ("
        " SELECT id FROM knowledge WHERE owner_id = ? AND kind = ? AND superseded_by IS NULL"
        " AND archived = 0 ORDER BY updated_at DESC, id DESC LIMIT -1 OFFSET ?)",
        (owner_id, kind, capacity),
    )
