"""Long-term memory: the user profile and the user/assistant knowledge bases.

A new profile value for an attribute supersedes the old one; `add_fact` can link the
facts a new one supersedes. Superseded rows stay as history, linked by `superseded_by`.
An identical (or near-identical) fact only gains evidence.

This module owns the `profile_items` and `knowledge` tables and knowledge's indexes
(knowledge_fts, knowledge_vec). Erasure and import reach both tables alike: their
functions take which, as an `Item`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any, Literal

from memoryos_cli.catalog import calibrated
from memoryos_cli.embed import Vector
from memoryos_cli.memory.records import Fact, ProfileItem
from memoryos_cli.store import tables, vectors

DUPLICATE_SIMILARITY = 0.95
PROFILE_COLUMNS = (
    "id, attribute, value, evidence_count, source_page_ids, ts, updated_at, superseded_by"
)
FACT_COLUMNS = (
    "id, kind, text, evidence_count, source_page_ids, ts, updated_at, superseded_by, archived"
)
Item = Literal["fact", "profile"]
TABLES: dict[Item, str] = {"fact": "knowledge", "profile": "profile_items"}


# Words a model puts before an attribute that name the list, not the attribute: echoing
# "profile name: Caroline" from what it was shown, Qwen 1.5B wrote "profile_name", then
# "profile_profile_name", a new row each session next to "name".
ATTRIBUTE_PREFIXES = re.compile(r"^(?:(?:profile|user_s|users|user|the)_)+")


def normalize_attribute(name: str) -> str:
    """ "City", "profile city", "User's city" -> "city": one row per attribute. Letters of
    any script stay: "饮食" and "城市" were both "note", so a city set in Chinese replaced
    the diet, and "régime" was "r_gime"."""
    attr = re.sub(r"[\W_]+", "_", name.strip().casefold()).strip("_")
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
        f" updated_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, {tables.new_id('profile_items')})",
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
    floor = vectors.bound_floor(conn)
    for fid, sim in vectors.knn(conn, "knowledge_vec", owner_id, vec, 5):
        row = conn.execute(
            "SELECT text, source_page_ids, kind FROM knowledge"
            " WHERE id = ? AND superseded_by IS NULL AND archived = 0",
            (fid,),
        ).fetchone()
        if row is None or row[2] != kind:
            continue
        if normalized(row[0]) == normalized(text) or calibrated(sim, floor) >= DUPLICATE_SIMILARITY:
            conn.execute(
                "UPDATE knowledge SET evidence_count = evidence_count + 1, source_page_ids = ?,"
                " updated_at = ?, ts = MIN(ts, ?) WHERE id = ?",
                (_merge_ids(row[1], sources), now, ts, fid),
            )
            return fid
    cur = conn.execute(
        "INSERT INTO knowledge(owner_id, kind, text, source_page_ids, ts, created_at, updated_at,"
        f" id) VALUES (?, ?, ?, ?, ?, ?, ?, {tables.new_id('knowledge')})",
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
    enforce_capacity(conn, owner_id, kind, capacity)
    return new_id


def enforce_capacity(conn: Any, owner_id: int, kind: str, capacity: int) -> None:
    """Keep at most `capacity` active facts per kind: the least recently updated retire."""
    conn.execute(
        "UPDATE knowledge SET archived = 1 WHERE id IN ("
        " SELECT id FROM knowledge WHERE owner_id = ? AND kind = ? AND superseded_by IS NULL"
        " AND archived = 0 ORDER BY updated_at DESC, id DESC LIMIT -1 OFFSET ?)",
        (owner_id, kind, capacity),
    )


def one_current_value(conn: Any, owner_id: int) -> None:
    """After a merge, each profile attribute has one current value: the latest one."""
    found = conn.execute(
        "SELECT id, attribute FROM profile_items WHERE owner_id = ? AND superseded_by IS NULL"
        " ORDER BY attribute, ts DESC, updated_at DESC, id DESC",
        (owner_id,),
    ).fetchall()
    latest: dict[str, int] = {}
    for item_id, attr in found:
        if attr in latest:
            supersede(conn, "profile", item_id, latest[attr])
        else:
            latest[attr] = int(item_id)


# -- both tables: erasure, export, import ----------------------------------------------


def ids_of(conn: Any, owner_id: int, item: Item, *, contains: str | None = None) -> list[int]:
    """The ids of the owner's facts or profile items, history included; with `contains`,
    of those whose text (attribute or value) holds it."""
    columns = ("text",) if item == "fact" else ("attribute", "value")
    return tables.ids(conn, TABLES[item], owner_id, contains=contains, columns=columns)


def provenance(conn: Any, owner_id: int, item: Item) -> list[Any]:
    """(id, source page ids as JSON, superseded_by, text) of each of the owner's facts or
    profile items ("attribute: value"), history included."""
    text = "text" if item == "fact" else "attribute || ': ' || value"
    return conn.execute(
        f"SELECT id, source_page_ids, superseded_by, {text} FROM {TABLES[item]} WHERE owner_id = ?",
        (owner_id,),
    ).fetchall()


def supersede(conn: Any, item: Item, item_id: int, successor: int | None) -> None:
    """Link an item to the version that replaced it (None: it is current)."""
    conn.execute(f"UPDATE {TABLES[item]} SET superseded_by = ? WHERE id = ?", (successor, item_id))


def cite(conn: Any, item: Item, item_id: int, sources: Iterable[int]) -> None:
    """The pages an item was learned from, in place of those it cited."""
    conn.execute(
        f"UPDATE {TABLES[item]} SET source_page_ids = ? WHERE id = ?",
        (json.dumps(list(sources)), item_id),
    )


def delete(conn: Any, item: Item, ids: Iterable[int]) -> None:
    """Erase facts (their vectors first) or profile items."""
    tables.delete(conn, TABLES[item], ids, "knowledge_vec" if item == "fact" else None)


def erase_owner(conn: Any, owner_id: int) -> None:
    """Every fact and profile item of one owner, fact vectors first."""
    conn.execute("UPDATE knowledge SET superseded_by = NULL WHERE owner_id = ?", (owner_id,))
    conn.execute("UPDATE profile_items SET superseded_by = NULL WHERE owner_id = ?", (owner_id,))
    tables.erase_owner(conn, "knowledge", owner_id, "knowledge_vec")
    tables.erase_owner(conn, "profile_items", owner_id)


def fact_texts(conn: Any) -> list[tuple[int, int, str]]:
    """Every fact of every owner, in id order: (id, owner, text)."""
    return conn.execute("SELECT id, owner_id, text FROM knowledge ORDER BY id").fetchall()


def export_rows(conn: Any, owner_id: int, item: Item) -> list[Any]:
    """The owner's facts (FACT_COLUMNS) or profile items (PROFILE_COLUMNS), created_at
    last, in id order."""
    columns = FACT_COLUMNS if item == "fact" else PROFILE_COLUMNS
    return conn.execute(
        f"SELECT {columns}, created_at FROM {TABLES[item]} WHERE owner_id = ? ORDER BY id",
        (owner_id,),
    ).fetchall()


def keys(conn: Any, owner_id: int, item: Item) -> dict[tuple[str, str, float], int]:
    """The owner's items by what makes one the same: (kind, text, ts) for a fact,
    (attribute, value, ts) for a profile item."""
    columns = "id, kind, text, ts" if item == "fact" else "id, attribute, value, ts"
    found = conn.execute(
        f"SELECT {columns} FROM {TABLES[item]} WHERE owner_id = ?", (owner_id,)
    ).fetchall()
    return {(r[1], r[2], float(r[3])): int(r[0]) for r in found}


def is_empty(conn: Any, item: Item) -> bool:
    """Whether the file holds no such item of anyone (an import may then keep its ids)."""
    return tables.is_empty(conn, TABLES[item])


def restore(conn: Any, item: Item, row: dict[str, Any], vec: Vector | None = None) -> int:
    """Write an imported fact (with its vector) or profile item as it is given (its id kept
    when it has one); its id."""
    new_id = tables.insert(conn, TABLES[item], row)
    if vec is not None:
        vectors.upsert(conn, "knowledge_vec", new_id, row["owner_id"], vec)
    return new_id
