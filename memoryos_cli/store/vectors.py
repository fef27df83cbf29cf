"""sqlite-vec helpers: serialize, upsert, erase and KNN within one owner's partition."""

from __future__ import annotations

from typing import Any

import numpy as np

from memoryos_cli.embed import Vector

KEYS = {"pages_vec": "page_id", "segments_vec": "segment_id", "knowledge_vec": "knowledge_id"}


def blob(vec: Vector) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def from_blob(data: bytes) -> Vector:
    return np.frombuffer(data, dtype=np.float32).copy()


def upsert(conn: Any, table: str, row_id: int, owner_id: int, vec: Vector) -> None:
    key = KEYS[table]
    conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (row_id,))
    conn.execute(
        f"INSERT INTO {table}({key}, owner_id, embedding) VALUES (?, ?, ?)",
        (row_id, owner_id, blob(vec)),
    )


def erase(conn: Any, table: str, row_id: int) -> None:
    """Overwrite the stored vector with zeros, then delete it: vec0 chunks keep deleted bytes."""
    key = KEYS[table]
    row = conn.execute(f"SELECT embedding FROM {table} WHERE {key} = ?", (row_id,)).fetchone()
    if row is None:
        return
    zeros = bytes(len(row[0]))
    conn.execute(f"UPDATE {table} SET embedding = ? WHERE {key} = ?", (zeros, row_id))
    conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (row_id,))


def knn(conn: Any, table: str, owner_id: int, vec: Vector, k: int) -> list[tuple[int, float]]:
    """Nearest rows of one owner: (id, cosine similarity), best first."""
    if k <= 0:
        return []
    key = KEYS[table]
    rows = conn.execute(
        f"SELECT {key}, distance FROM {table} WHERE embedding MATCH ? AND k = ? AND owner_id = ?",
        (blob(vec), k, owner_id),
    ).fetchall()
    return [(int(r[0]), 1.0 - float(r[1])) for r in rows]


def get(conn: Any, table: str, ids: list[int]) -> dict[int, Vector]:
    if not ids:
        return {}
    key = KEYS[table]
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT {key}, embedding FROM {table} WHERE {key} IN ({marks})", ids
    ).fetchall()
    return {int(r[0]): from_blob(r[1]) for r in rows}
