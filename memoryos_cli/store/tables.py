"""Rows of a table by id and owner, for the module that owns the table (it names its own
table, and its vector index where it has one): ids, inserts of whole rows, deletes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from memoryos_cli.store import vectors
from memoryos_cli.store.migrations import ID_FLOOR_TABLES
from memoryos_cli.words import holds


def ids(
    conn: Any,
    table: str,
    owner_id: int,
    *,
    contains: str | None = None,
    columns: Iterable[str] = (),
) -> list[int]:
    """The ids of one owner's rows; with `contains`, of those with any of `columns`
    holding it (`words.holds`, not SQLite's LIKE, which folds ASCII only)."""
    names = list(columns) if contains is not None else []
    found = conn.execute(
        f"SELECT {', '.join(['id', *names])} FROM {table} WHERE owner_id = ?", (owner_id,)
    ).fetchall()
    if contains is None:
        return [int(r[0]) for r in found]
    return [int(r[0]) for r in found if any(holds(str(v or ""), contains) for v in r[1:])]


def new_id(table: str) -> str:
    """SQL for the id of a new row of `table`: above every id it has given, forgotten rows'
    too (`migrations.m008_ids_never_reused`); NULL, so SQLite's own, for other tables."""
    if table not in ID_FLOOR_TABLES:
        return "NULL"
    return (
        f"(SELECT max(last_id, (SELECT coalesce(max(id), 0) FROM {table})) + 1"
        f" FROM id_floors WHERE tbl = '{table}')"
    )


def insert(conn: Any, table: str, row: dict[str, Any]) -> int:
    """Write `row` (column -> value); its id: the row's own when it gives one, else a new
    one (`new_id`)."""
    columns, values = list(row), ["?"] * len(row)
    if "id" not in row:
        columns.append("id")
        values.append(new_id(table))
    cur = conn.execute(
        f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join(values)})",
        list(row.values()),
    )
    return int(row["id"]) if "id" in row else int(cur.lastrowid)


def is_empty(conn: Any, table: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None


def delete(conn: Any, table: str, row_ids: Iterable[int], vector_table: str | None = None) -> None:
    """Delete rows by id, each row's vector first (overwritten, then gone)."""
    for row_id in row_ids:
        if vector_table is not None:
            vectors.erase(conn, vector_table, row_id)
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))


def erase_owner(conn: Any, table: str, owner_id: int, vector_table: str | None = None) -> None:
    """Delete every row of one owner, their vectors first."""
    if vector_table is not None:
        for row_id in ids(conn, table, owner_id):
            vectors.erase(conn, vector_table, row_id)
    conn.execute(f"DELETE FROM {table} WHERE owner_id = ?", (owner_id,))
