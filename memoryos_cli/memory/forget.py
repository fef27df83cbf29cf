"""Erasure from every table and index: rows, FTS5, vec0, derived knowledge, the input
history, the WAL.

One planner decides what a forget changes; a dry run returns that plan, and the delete
executes exactly it, in the transaction that computed it. What goes and what stays:

- a page: its row, FTS entry and vectors, and each fact and profile item whose sources
  are all forgotten pages (current or superseded history alike). One that also cites
  pages not forgotten stays, citing only those. Its segment is rebuilt from the pages
  left (centroid, keywords, a keyword summary in place of the model's), or goes with
  its last page.
- a fact or profile item by id: that item.
- a segment: it and all its pages (as above).
- text (`--match`): every page, fact and profile item containing it (as above), the
  segment summaries containing it (rebuilt) and the chat's input-history entries with it.
- everything: every row and job of the user/assistant pair, and the whole input history
  (one file per data folder, shared by every user of that folder).

Nothing learned only from pages that stay is deleted. When a fact or profile item goes,
the older version it had replaced takes its place (current again, or history of the
next version that stays), as if the forgotten one had never been learned.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from memoryos_cli.embed import normalize
from memoryos_cli.errors import InvalidInputError, MemoryosError, NotFoundError
from memoryos_cli.memory import input_history, mid_term
from memoryos_cli.memory.scope import Scope
from memoryos_cli.store import vectors

KINDS = {"p": "page", "k": "fact", "u": "profile item", "s": "segment"}
TABLES = {"p": "pages", "k": "knowledge", "u": "profile_items", "s": "segments"}
WHAT_CHARS = 400


def parse_ref(ref: str) -> tuple[str, int]:
    ref = ref.strip().lower()
    if len(ref) < 2 or ref[0] not in KINDS or not ref[1:].isdigit():
        raise InvalidInputError(
            f"{ref!r} is not a memory id; ids look like p12 (page), k3 (fact), "
            "u4 (profile item), s5 (segment)"
        )
    return ref[0], int(ref[1:])


@dataclass(frozen=True)
class Change:
    """One row of a plan: an item, what happens to it, and its text."""

    ref: str  # p12, k3, u4, s5, or "history"
    action: str  # forget, rebuild, keep (citing fewer pages), current again, history of k3
    what: str


@dataclass(frozen=True)
class ForgetPlan:
    """Everything one forget changes. A dry run returns it; the delete runs exactly it."""

    pages: tuple[int, ...] = ()
    facts: tuple[int, ...] = ()
    profile_items: tuple[int, ...] = ()
    segments: tuple[int, ...] = ()
    rebuilt_segments: tuple[int, ...] = ()
    fact_sources: tuple[tuple[int, tuple[int, ...]], ...] = ()  # kept, with the pages left
    profile_sources: tuple[tuple[int, tuple[int, ...]], ...] = ()
    # older versions whose successor goes: (id, the next version kept, or None = current)
    fact_links: tuple[tuple[int, int | None], ...] = ()
    profile_links: tuple[tuple[int, int | None], ...] = ()
    history_match: str | None = None  # input-history entries containing it go
    everything: bool = False  # every row and job of the owner; the whole input history
    history_entries: int = field(default=0, compare=False)  # the file changes as one types
    changes: tuple[Change, ...] = field(default=(), compare=False)

    @property
    def counts(self) -> dict[str, int]:
        """What is deleted, per kind (kinds with nothing left out)."""
        counts = {
            "pages": len(self.pages),
            "facts": len(self.facts),
            "profile_items": len(self.profile_items),
            "segments": len(self.segments),
            "history_entries": self.history_entries,
        }
        return {name: n for name, n in counts.items() if n}


# -- planning --------------------------------------------------------------------------


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= WHAT_CHARS else text[: WHAT_CHARS - 1] + "…"


def _ids(conn: Any, sql: str, params: Iterable[Any]) -> list[int]:
    return [int(r[0]) for r in conn.execute(sql, tuple(params)).fetchall()]


@dataclass
class _Derived:
    gone: set[int]
    kept_sources: dict[int, tuple[int, ...]]
    relinked: dict[int, int | None]
    text: dict[int, str]


def _derived(
    conn: Any, table: str, text_sql: str, owner_id: int, pages: set[int], chosen: set[int]
) -> _Derived:
    """Facts or profile items of the owner: which go (chosen, or learned only from `pages`),
    which stay citing fewer pages, and which older versions move up to replace one that goes.
    """
    rows = conn.execute(
        f"SELECT id, source_page_ids, superseded_by, {text_sql} FROM {table} WHERE owner_id = ?",
        (owner_id,),
    ).fetchall()
    gone, kept = set(chosen), {}
    for row_id, sources_json, _, _ in rows:
        sources = set(json.loads(sources_json))
        if row_id in gone or not sources & pages:
            continue
        if sources <= pages:
            gone.add(int(row_id))
        else:
            kept[int(row_id)] = tuple(sorted(sources - pages))
    newer = {int(r[0]): r[2] for r in rows}
    relinked: dict[int, int | None] = {}
    for row_id, successor in newer.items():
        if row_id in gone or successor not in gone:
            continue
        seen = set()
        while successor in gone and successor not in seen:  # skip every version that goes
            seen.add(successor)
            successor = newer.get(successor)
        relinked[row_id] = successor
    return _Derived(gone, kept, relinked, {int(r[0]): r[3] for r in rows})


def _plan(
    conn: Any,
    owner_id: int,
    *,
    history_path: Path,
    pages: Iterable[int] = (),
    facts: Iterable[int] = (),
    profile_items: Iterable[int] = (),
    segments: Iterable[int] = (),
    rebuild: Iterable[int] = (),
    history_match: str | None = None,
    everything: bool = False,
) -> ForgetPlan:
    """Close the chosen items over what derives from them (see the module's rules)."""
    segment_set = set(segments)
    segment_of = {
        int(r[0]): r[1]
        for r in conn.execute("SELECT id, segment_id FROM pages WHERE owner_id = ?", (owner_id,))
    }
    page_set = set(pages) | {p for p, sid in segment_of.items() if sid in segment_set}
    fact = _derived(conn, "knowledge", "text", owner_id, page_set, set(facts))
    profile_sql = "attribute || ': ' || value"
    profile = _derived(conn, "profile_items", profile_sql, owner_id, page_set, set(profile_items))
    size: Counter[int] = Counter()
    left: Counter[int] = Counter()
    for page_id, segment_id in segment_of.items():
        if segment_id is not None:
            size[int(segment_id)] += 1
            left[int(segment_id)] += page_id not in page_set
    touched = {int(segment_of[p]) for p in page_set if segment_of[p] is not None}
    touched |= set(rebuild)
    segment_set |= {s for s in touched if not left[s]}
    rebuilt = touched - segment_set
    if everything:
        entries = input_history.count(history_path)
    else:
        entries = input_history.count(history_path, history_match) if history_match else 0

    texts = _page_texts(conn, page_set)
    changes = _changes(texts, fact, profile, size, segment_set, left, rebuilt)
    if entries:
        changes.append(Change("history", "forget", f"{entries} entries typed in memoryos chat"))
    return ForgetPlan(
        pages=tuple(sorted(page_set)),
        facts=tuple(sorted(fact.gone)),
        profile_items=tuple(sorted(profile.gone)),
        segments=tuple(sorted(segment_set)),
        rebuilt_segments=tuple(sorted(rebuilt)),
        fact_sources=tuple(sorted(fact.kept_sources.items())),
        profile_sources=tuple(sorted(profile.kept_sources.items())),
        fact_links=tuple(sorted(fact.relinked.items())),
        profile_links=tuple(sorted(profile.relinked.items())),
        history_match=history_match,
        everything=everything,
        history_entries=entries,
        changes=tuple(changes),
    )


def _page_texts(conn: Any, pages: set[int]) -> dict[int, str]:
    """The start of each page's exchange, for the plan's rows (not every page's whole text)."""
    ids, out = sorted(pages), {}
    columns = f"id, substr(user_input, 1, {WHAT_CHARS}), substr(agent_response, 1, {WHAT_CHARS})"
    for at in range(0, len(ids), 500):
        chunk = ids[at : at + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {columns} FROM pages WHERE id IN ({marks})", chunk):
            out[int(row[0])] = f"{row[1]} / {row[2]}"
    return out


def _changes(
    pages: dict[int, str],
    fact: _Derived,
    profile: _Derived,
    size: Counter[int],
    segments: set[int],
    left: Counter[int],
    rebuilt: set[int],
) -> list[Change]:
    """The plan's rows: segments, pages, facts, profile items, each by id."""
    out = [Change(f"s{s}", "forget", f"segment with {size[s]} page(s)") for s in sorted(segments)]
    out += [Change(f"p{p}", "forget", _clip(text)) for p, text in sorted(pages.items())]
    for prefix, derived in (("k", fact), ("u", profile)):
        rows: dict[int, str] = dict.fromkeys(derived.gone, "forget")
        for i, src in derived.kept_sources.items():
            rows[i] = "keep, cites " + ", ".join(f"p{s}" for s in src)
        for i, successor in derived.relinked.items():
            rows[i] = "current again" if successor is None else f"history of {prefix}{successor}"
        out += [Change(f"{prefix}{i}", rows[i], _clip(derived.text[i])) for i in sorted(rows)]
    out += [
        Change(f"s{s}", "rebuild", f"summary and keywords remade from its {left[s]} page(s) left")
        for s in sorted(rebuilt)
    ]
    return out


def plan_ref(conn: Any, owner_id: int, ref: str, *, history_path: Path) -> ForgetPlan:
    """What forgetting one item (p12, k3, u4, s5) changes."""
    kind, num = parse_ref(ref)
    found = conn.execute(
        f"SELECT 1 FROM {TABLES[kind]} WHERE id = ? AND owner_id = ?", (num, owner_id)
    ).fetchone()
    if found is None:
        raise NotFoundError(f"no {KINDS[kind]} {kind}{num} in this memory")
    if kind == "p":
        return _plan(conn, owner_id, history_path=history_path, pages=[num])
    if kind == "k":
        return _plan(conn, owner_id, history_path=history_path, facts=[num])
    if kind == "u":
        return _plan(conn, owner_id, history_path=history_path, profile_items=[num])
    return _plan(conn, owner_id, history_path=history_path, segments=[num])


def plan_matching(conn: Any, owner_id: int, text: str, *, history_path: Path) -> ForgetPlan:
    """What forgetting everything containing `text` (case-insensitive) changes."""
    needle = text.strip()
    if len(needle) < 2:
        raise InvalidInputError("--match needs at least 2 characters")
    like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    def matching(table: str, *columns: str) -> list[int]:
        cond = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns)
        sql = f"SELECT id FROM {table} WHERE owner_id = ? AND ({cond})"
        return _ids(conn, sql, [owner_id, *[like] * len(columns)])

    return _plan(
        conn,
        owner_id,
        history_path=history_path,
        pages=matching("pages", "user_input", "agent_response"),
        facts=matching("knowledge", "text"),
        profile_items=matching("profile_items", "attribute", "value"),
        rebuild=matching("segments", "summary", "keywords_json"),
        history_match=needle,
    )


def plan_all(conn: Any, owner_id: int, *, history_path: Path) -> ForgetPlan:
    """What forgetting everything of this user/assistant pair changes."""

    def every(table: str) -> list[int]:
        return _ids(conn, f"SELECT id FROM {table} WHERE owner_id = ?", [owner_id])

    return _plan(
        conn,
        owner_id,
        history_path=history_path,
        pages=every("pages"),
        facts=every("knowledge"),
        profile_items=every("profile_items"),
        segments=every("segments"),
        everything=True,
    )


# -- executing -------------------------------------------------------------------------


def _rebuild_segment(conn: Any, owner_id: int, sid: int) -> None:
    """After losing pages (or its summary): new centroid, keywords and a keyword summary."""
    remaining = _ids(conn, "SELECT id FROM pages WHERE segment_id = ?", [sid])
    vecs = list(vectors.get(conn, "pages_vec", remaining).values())
    centroid = normalize(np.mean(np.stack(vecs), axis=0)[np.newaxis, :])[0]
    conn.execute(
        "UPDATE segments SET centroid = ?, page_count = ?, summary_source = 'keywords'"
        " WHERE id = ?",
        (vectors.blob(centroid), len(remaining), sid),
    )
    vectors.upsert(conn, "segments_vec", sid, owner_id, centroid)
    mid_term.refresh_keywords(conn, sid)


def _delete(conn: Any, table: str, ids: tuple[int, ...], vec_table: str | None = None) -> None:
    for row_id in ids:
        if vec_table is not None:
            vectors.erase(conn, vec_table, row_id)
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))


def _erase_owner(conn: Any, owner: int) -> None:
    """Every row of one owner, vectors and centroids overwritten first."""
    for table, vec_table in (
        ("pages", "pages_vec"),
        ("knowledge", "knowledge_vec"),
        ("segments", "segments_vec"),
    ):
        for row_id in _ids(conn, f"SELECT id FROM {table} WHERE owner_id = ?", [owner]):
            vectors.erase(conn, vec_table, row_id)
    conn.execute("UPDATE knowledge SET superseded_by = NULL WHERE owner_id = ?", (owner,))
    conn.execute("UPDATE profile_items SET superseded_by = NULL WHERE owner_id = ?", (owner,))
    conn.execute("UPDATE pages SET segment_id = NULL WHERE owner_id = ?", (owner,))
    conn.execute(
        "UPDATE segments SET centroid = zeroblob(length(centroid)) WHERE owner_id = ?", (owner,)
    )
    for table in ("pages", "knowledge", "segments", "jobs", "profile_items"):
        conn.execute(f"DELETE FROM {table} WHERE owner_id = ?", (owner,))


def execute(conn: Any, owner_id: int, plan: ForgetPlan) -> None:
    """Apply `plan` to the database (the caller's transaction); the history file is apart."""
    if plan.everything:
        _erase_owner(conn, owner_id)
        return
    for table, links, sources in (
        ("knowledge", plan.fact_links, plan.fact_sources),
        ("profile_items", plan.profile_links, plan.profile_sources),
    ):
        for row_id, successor in links:
            conn.execute(f"UPDATE {table} SET superseded_by = ? WHERE id = ?", (successor, row_id))
        for row_id, left in sources:
            conn.execute(
                f"UPDATE {table} SET source_page_ids = ? WHERE id = ?", (json.dumps(left), row_id)
            )
    _delete(conn, "knowledge", plan.facts, "knowledge_vec")
    _delete(conn, "profile_items", plan.profile_items)
    _delete(conn, "pages", plan.pages, "pages_vec")
    for sid in plan.segments:
        mid_term.delete_segment(conn, sid)
    for sid in plan.rebuilt_segments:
        _rebuild_segment(conn, owner_id, sid)


@contextmanager
def _snapshot(scope: Scope) -> Iterator[Any]:
    """A read transaction: the plan sees one state of the file and writes nothing."""
    store = scope.store
    with store.lock:
        store.conn.execute("BEGIN")
        try:
            yield store.conn
        finally:
            store.conn.execute("ROLLBACK")


def run(
    scope: Scope,
    planner: Callable[[Any], ForgetPlan],
    *,
    dry_run: bool = False,
    expect: ForgetPlan | None = None,
) -> ForgetPlan:
    """Plan, and unless `dry_run`, execute that plan in the same transaction.

    `expect` is the plan a preview showed: when the memory changed since, nothing is
    forgotten, so a delete never goes beyond what the user confirmed.
    """
    if dry_run:
        with _snapshot(scope) as conn:
            return planner(conn)
    with scope.store.transaction() as conn:
        plan = planner(conn)
        if expect is not None and plan != expect:
            raise MemoryosError(
                "the memory changed since the preview; nothing was forgotten, run it again"
            )
        execute(conn, scope.owner_id, plan)
    path = scope.settings.history_path
    if plan.everything:
        erased = input_history.erase(path)
    elif plan.history_match is not None:
        erased = input_history.erase(path, plan.history_match)
    else:
        erased = 0
    scope.store.checkpoint()
    return replace(plan, history_entries=erased)
