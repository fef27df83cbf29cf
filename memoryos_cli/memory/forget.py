"""Erasure from every table and index: rows, FTS5, vec0, derived knowledge, the input
history, the WAL.

One planner decides what a forget changes; a dry run returns that plan, and the delete
executes exactly it, in the transaction that computed it. What goes and what stays:

- a page: its row, FTS entry and vectors, the input-history entries typed as its
  message, and each fact and profile item whose sources are all forgotten pages
  (current or superseded history alike). One that also cites pages not forgotten
  stays, citing only those. Its segment is rebuilt from the pages
  left (centroid, keywords, a keyword summary in place of the model's), or goes with
  its last page.
- a fact or profile item by id: that item.
- a segment: it and all its pages (as above).
- text (`--match`): every page, fact and profile item containing it (as above), the
  segment summaries containing it (rebuilt) and the chat's input-history entries with it.
- everything: every row and job of the user/assistant pair, and the whole input history
  (one file per data folder, shared by every user of that folder).
- whatever goes: the log of the last analyses (`memory why`), whole. It is diagnostics
  drawn from pages, and any of its lines may quote what was forgotten.

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

from memoryos_cli.errors import InvalidInputError, MemoryosError, NotFoundError
from memoryos_cli.memory import analysis_log, input_history, jobs, long_term, mid_term
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.long_term import Item
from memoryos_cli.memory.scope import Scope

KINDS = {"p": "page", "k": "fact", "u": "profile item", "s": "segment"}
LARGEST_ID = 2**63 - 1  # SQLite's largest integer
WHAT_CHARS = 400


def parse_ref(ref: str) -> tuple[str, int]:
    ref = ref.strip().lower()
    if len(ref) < 2 or ref[0] not in KINDS or not ref[1:].isdigit():
        raise InvalidInputError(
            f"{ref!r} is not a memory id; ids look like p12 (page), k3 (fact), "
            "u4 (profile item), s5 (segment)"
        )
    number = int(ref[1:])
    if number > LARGEST_ID:  # no row has it, and SQLite cannot even be asked
        raise NotFoundError(f"no {KINDS[ref[0]]} {ref} in this memory")
    return ref[0], number


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
    # and those typed as a forgotten page's message (so the up-arrow cannot bring it back)
    history_lines: tuple[str, ...] = field(default=(), repr=False)
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


@dataclass
class _Derived:
    gone: set[int]
    kept_sources: dict[int, tuple[int, ...]]
    relinked: dict[int, int | None]
    text: dict[int, str]


def _derived(conn: Any, item: Item, owner_id: int, pages: set[int], chosen: set[int]) -> _Derived:
    """Facts or profile items of the owner: which go (chosen, or learned only from `pages`),
    which stay citing fewer pages, and which older versions move up to replace one that goes.
    """
    rows = long_term.provenance(conn, owner_id, item)
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
    segment_of = page_store.segments_of(conn, owner_id)
    page_set = set(pages) | {p for p, sid in segment_of.items() if sid in segment_set}
    fact = _derived(conn, "fact", owner_id, page_set, set(facts))
    profile = _derived(conn, "profile", owner_id, page_set, set(profile_items))
    size: Counter[int] = Counter()
    left: Counter[int] = Counter()
    for page_id, segment_id in segment_of.items():
        if segment_id is not None:
            size[int(segment_id)] += 1
            left[int(segment_id)] += page_id not in page_set
    touched = {sid for p in page_set if (sid := segment_of[p]) is not None}
    touched |= set(rebuild)
    segment_set |= {s for s in touched if not left[s]}
    rebuilt = touched - segment_set
    typed = () if everything else _typed(conn, owner_id, page_set)
    if everything:
        entries = input_history.count(history_path)
    elif history_match or typed:
        entries = input_history.count(history_path, history_match, typed)
    else:
        entries = 0

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
        history_lines=typed,
        everything=everything,
        history_entries=entries,
        changes=tuple(changes),
    )


def _typed(conn: Any, owner_id: int, pages: set[int]) -> tuple[str, ...]:
    """What the user typed on each of `pages` (a chat line in the input history)."""
    if not pages:
        return ()
    return tuple(sorted({p.user_input for p in page_store.load(conn, owner_id, sorted(pages))}))


def _page_texts(conn: Any, pages: set[int]) -> dict[int, str]:
    """The start of each page's exchange, for the plan's rows (not every page's whole text)."""
    opened = page_store.openings(conn, sorted(pages), WHAT_CHARS)
    return {pid: f"{user} / {answer}" for pid, (user, answer) in opened.items()}


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
    if kind == "p":
        found = bool(page_store.existing_ids(conn, owner_id, [num]))
    elif kind == "s":
        found = mid_term.segment_owner(conn, num) == owner_id
    else:
        found = num in long_term.ids_of(conn, owner_id, "fact" if kind == "k" else "profile")
    if not found:
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
    return _plan(
        conn,
        owner_id,
        history_path=history_path,
        pages=page_store.ids_of(conn, owner_id, contains=needle),
        facts=long_term.ids_of(conn, owner_id, "fact", contains=needle),
        profile_items=long_term.ids_of(conn, owner_id, "profile", contains=needle),
        rebuild=mid_term.ids_of(conn, owner_id, contains=needle),
        history_match=needle,
    )


def plan_all(conn: Any, owner_id: int, *, history_path: Path) -> ForgetPlan:
    """What forgetting everything of this user/assistant pair changes."""
    return _plan(
        conn,
        owner_id,
        history_path=history_path,
        pages=page_store.ids_of(conn, owner_id),
        facts=long_term.ids_of(conn, owner_id, "fact"),
        profile_items=long_term.ids_of(conn, owner_id, "profile"),
        segments=mid_term.ids_of(conn, owner_id),
        everything=True,
    )


# -- executing -------------------------------------------------------------------------


def _erase_owner(conn: Any, owner: int) -> None:
    """Every row of one owner, vectors and centroids overwritten first."""
    page_store.erase_owner(conn, owner)
    long_term.erase_owner(conn, owner)
    mid_term.erase_owner(conn, owner)
    jobs.erase_owner(conn, owner)


def execute(conn: Any, owner_id: int, plan: ForgetPlan) -> None:
    """Apply `plan` to the database (the caller's transaction); the history file is apart."""
    analysis_log.erase_owner(conn, owner_id)
    if plan.everything:
        _erase_owner(conn, owner_id)
        return
    item: Item
    for item, links, sources in (
        ("fact", plan.fact_links, plan.fact_sources),
        ("profile", plan.profile_links, plan.profile_sources),
    ):
        for row_id, successor in links:
            long_term.supersede(conn, item, row_id, successor)
        for row_id, left in sources:
            long_term.cite(conn, item, row_id, left)
    long_term.delete(conn, "fact", plan.facts)
    long_term.delete(conn, "profile", plan.profile_items)
    page_store.delete(conn, plan.pages)
    for sid in plan.segments:
        mid_term.delete_segment(conn, sid)
    for sid in plan.rebuilt_segments:
        mid_term.rebuild(conn, owner_id, sid)


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
    elif plan.history_match is not None or plan.history_lines:
        erased = input_history.erase(path, plan.history_match, plan.history_lines)
    else:
        erased = 0
    scope.store.checkpoint()
    return replace(plan, history_entries=erased)
