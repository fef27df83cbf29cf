"""Erasure from every table and index: rows, FTS5, vec0, derived knowledge, the WAL.

What was learned from a forgotten exchange (facts and profile items citing it) is
forgotten with it, and a segment summary written by the model is rebuilt from keywords.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np

from memoryos_cli.embed import normalize
from memoryos_cli.errors import InvalidInputError, NotFoundError
from memoryos_cli.memory import mid_term
from memoryos_cli.memory.scope import Scope
from memoryos_cli.store import vectors

KINDS = {"p": "page", "k": "fact", "u": "profile item", "s": "segment"}


def parse_ref(ref: str) -> tuple[str, int]:
    ref = ref.strip().lower()
    if len(ref) < 2 or ref[0] not in KINDS or not ref[1:].isdigit():
        raise InvalidInputError(
            f"{ref!r} is not a memory id; ids look like p12 (page), k3 (fact), "
            "u4 (profile item), s5 (segment)"
        )
    return ref[0], int(ref[1:])


def _delete_fact_chain(conn: Any, fact_id: int, counts: Counter[str]) -> None:
    """A fact and the history it superseded."""
    older = [
        int(r[0])
        for r in conn.execute("SELECT id FROM knowledge WHERE superseded_by = ?", (fact_id,))
    ]
    vectors.erase(conn, "knowledge_vec", fact_id)
    conn.execute("DELETE FROM knowledge WHERE id = ?", (fact_id,))
    counts["facts"] += 1
    for old in older:
        _delete_fact_chain(conn, old, counts)


def _delete_profile_chain(conn: Any, item_id: int, counts: Counter[str]) -> None:
    older = [
        int(r[0])
        for r in conn.execute("SELECT id FROM profile_items WHERE superseded_by = ?", (item_id,))
    ]
    conn.execute("DELETE FROM profile_items WHERE id = ?", (item_id,))
    counts["profile_items"] += 1
    for old in older:
        _delete_profile_chain(conn, old, counts)


def _cites(conn: Any, table: str, owner_id: int, page_id: int) -> list[int]:
    rows = conn.execute(
        f"SELECT id, source_page_ids FROM {table} WHERE owner_id = ?", (owner_id,)
    ).fetchall()
    return [int(r[0]) for r in rows if page_id in json.loads(r[1])]


def _rebuild_segment(conn: Any, scope: Scope, sid: int) -> None:
    """After losing a page: new centroid and keywords from what remains, or no segment."""
    remaining = [
        int(r[0]) for r in conn.execute("SELECT id FROM pages WHERE segment_id = ?", (sid,))
    ]
    if not remaining:
        mid_term.delete_segment(conn, sid)
        return
    vecs = list(vectors.get(conn, "pages_vec", remaining).values())
    centroid = normalize(np.mean(np.stack(vecs), axis=0)[np.newaxis, :])[0]
    conn.execute(
        "UPDATE segments SET centroid = ?, page_count = ?, summary_source = 'keywords'"
        " WHERE id = ?",
        (vectors.blob(centroid), len(remaining), sid),
    )
    vectors.upsert(conn, "segments_vec", sid, scope.owner_id, centroid)
    mid_term.refresh_keywords(conn, sid)


def _delete_page(conn: Any, scope: Scope, page_id: int, counts: Counter[str]) -> None:
    row = conn.execute(
        "SELECT segment_id FROM pages WHERE id = ? AND owner_id = ?", (page_id, scope.owner_id)
    ).fetchone()
    if row is None:
        return
    for fid in _cites(conn, "knowledge", scope.owner_id, page_id):
        if conn.execute("SELECT 1 FROM knowledge WHERE id = ?", (fid,)).fetchone():
            _delete_fact_chain(conn, fid, counts)
    for pid in _cites(conn, "profile_items", scope.owner_id, page_id):
        if conn.execute("SELECT 1 FROM profile_items WHERE id = ?", (pid,)).fetchone():
            _delete_profile_chain(conn, pid, counts)
    vectors.erase(conn, "pages_vec", page_id)
    conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
    counts["pages"] += 1
    if row[0] is not None:
        _rebuild_segment(conn, scope, int(row[0]))


def _finish(scope: Scope, counts: Counter[str]) -> dict[str, int]:
    scope.store.checkpoint()
    return dict(counts)


def forget_ref(scope: Scope, ref: str) -> dict[str, int]:
    kind, num = parse_ref(ref)
    counts: Counter[str] = Counter()
    owner = scope.owner_id
    table = {"p": "pages", "k": "knowledge", "u": "profile_items", "s": "segments"}[kind]
    with scope.store.transaction() as conn:
        found = conn.execute(
            f"SELECT 1 FROM {table} WHERE id = ? AND owner_id = ?", (num, owner)
        ).fetchone()
        if found is None:
            raise NotFoundError(f"no {KINDS[kind]} {ref} in this memory")
        if kind == "p":
            _delete_page(conn, scope, num, counts)
        elif kind == "k":
            _delete_fact_chain(conn, num, counts)
        elif kind == "u":
            _delete_profile_chain(conn, num, counts)
        else:
            pages = [
                int(r[0]) for r in conn.execute("SELECT id FROM pages WHERE segment_id = ?", (num,))
            ]
            for pid in pages:
                _delete_page(conn, scope, pid, counts)
            if conn.execute("SELECT 1 FROM segments WHERE id = ?", (num,)).fetchone():
                mid_term.delete_segment(conn, num)
            counts["segments"] += 1
    return _finish(scope, counts)


def matching_refs(conn: Any, owner_id: int, text: str) -> list[str]:
    """Every page, fact and profile item whose text contains `text` (case-insensitive)."""
    needle = text.strip()
    if len(needle) < 2:
        raise InvalidInputError("--match needs at least 2 characters")
    like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    refs = [
        f"p{r[0]}"
        for r in conn.execute(
            "SELECT id FROM pages WHERE owner_id = ? AND (user_input LIKE ? ESCAPE '\\'"
            " OR agent_response LIKE ? ESCAPE '\\') ORDER BY id",
            (owner_id, like, like),
        )
    ]
    refs += [
        f"k{r[0]}"
        for r in conn.execute(
            "SELECT id FROM knowledge WHERE owner_id = ? AND text LIKE ? ESCAPE '\\' ORDER BY id",
            (owner_id, like),
        )
    ]
    refs += [
        f"u{r[0]}"
        for r in conn.execute(
            "SELECT id FROM profile_items WHERE owner_id = ? AND (value LIKE ? ESCAPE '\\'"
            " OR attribute LIKE ? ESCAPE '\\') ORDER BY id",
            (owner_id, like, like),
        )
    ]
    return refs


def forget_matching(scope: Scope, text: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    with scope.store.transaction() as conn:
        for ref in matching_refs(conn, scope.owner_id, text):
            kind, num = parse_ref(ref)
            if kind == "p":
                _delete_page(conn, scope, num, counts)
            elif (
                kind == "k"
                and conn.execute("SELECT 1 FROM knowledge WHERE id=?", (num,)).fetchone()
            ):
                _delete_fact_chain(conn, num, counts)
            elif (
                kind == "u"
                and conn.execute("SELECT 1 FROM profile_items WHERE id=?", (num,)).fetchone()
            ):
                _delete_profile_chain(conn, num, counts)
    return _finish(scope, counts)


def forget_all(scope: Scope) -> dict[str, int]:
    """Everything of this user/assistant pair, in one transaction."""
    counts: Counter[str] = Counter()
    owner = scope.owner_id
    with scope.store.transaction() as conn:
        for table, vec_table in (
            ("pages", "pages_vec"),
            ("knowledge", "knowledge_vec"),
            ("segments", "segments_vec"),
        ):
            ids = [
                int(r[0])
                for r in conn.execute(f"SELECT id FROM {table} WHERE owner_id = ?", (owner,))
            ]
            for row_id in ids:
                vectors.erase(conn, vec_table, row_id)
            counts[table] = len(ids)
        conn.execute("UPDATE knowledge SET superseded_by = NULL WHERE owner_id = ?", (owner,))
        conn.execute("UPDATE profile_items SET superseded_by = NULL WHERE owner_id = ?", (owner,))
        conn.execute("UPDATE pages SET segment_id = NULL WHERE owner_id = ?", (owner,))
        conn.execute(
            "UPDATE segments SET centroid = zeroblob(length(centroid)) WHERE owner_id = ?", (owner,)
        )
        for table in ("pages", "knowledge", "segments", "jobs"):
            conn.execute(f"DELETE FROM {table} WHERE owner_id = ?", (owner,))
        counts["profile_items"] = conn.execute(
            "DELETE FROM profile_items WHERE owner_id = ?", (owner,)
        ).rowcount
    return _finish(scope, counts)
