"""Merge a validated `ExportFile` into one user/assistant pair, in ONE transaction.

No duplicates: an exchange with the same ts, user_input and agent_response is stored
once; a fact or profile value with the same text and ts likewise. Into an empty table
the original ids are kept (so export -> import -> export is identical); otherwise new ids
are assigned in file order and every reference is remapped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from memoryos_cli.embed import Embedder, Vector, normalize
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory import ingest, long_term, mid_term, short_term
from memoryos_cli.memory import jobs as job_queue
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.long_term import Item
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.memory.portable.format import ExportFile, FactRecord, ProfileRecord
from memoryos_cli.memory.portable.read import NOTHING
from memoryos_cli.memory.scope import Scope
from memoryos_cli.store import vectors

Chained = TypeVar("Chained", ProfileRecord, FactRecord)


@dataclass(frozen=True)
class ImportCounts:
    """What an import added (`duplicate_pages`: exchanges that were already here)."""

    pages: int
    duplicate_pages: int
    segments: int
    profile_items: int
    facts: int
    jobs: int


def _same_embedder(embedder: Embedder, export: ExportFile) -> bool:
    return export.embedder.name == embedder.name and export.embedder.dim == embedder.dim


def _vectors(
    embedder: Embedder, same: bool, items: Sequence[tuple[int, str, bytes | None]]
) -> dict[int, Vector]:
    """Vectors by id: from the file when its embedder is ours, else embedded again."""
    got = {i: vectors.from_blob(raw) for i, _, raw in items if same and raw is not None}
    todo = [(i, text) for i, text, _ in items if i not in got]
    if todo:
        fresh = embedder.embed([text for _, text in todo])
        got.update(zip([i for i, _ in todo], fresh, strict=True))
    return got


def _row(row: dict[str, Any], keep_id: bool) -> dict[str, Any]:
    """A row to write: with its id from the file, or without (a new one is given)."""
    return dict(row) if keep_id else {k: v for k, v in row.items() if k != "id"}


def _import_pages(
    conn: Any, owner: int, export: ExportFile, vecs: dict[int, Vector]
) -> tuple[dict[int, int], set[int]]:
    keep = page_store.is_empty(conn)
    # Each page already here stands for one page of the file: an exchange said twice (the
    # same words, the same second) is two pages, and importing it into an empty memory
    # kept one ("1 already here"); importing the file again still adds nothing.
    existing = page_store.keys(conn, owner)
    ids: dict[int, int] = {}
    new: set[int] = set()
    for p in export.pages:
        key = (p.ts, p.user_input, p.agent_response)
        if existing.get(key):
            ids[p.id] = existing[key].pop(0)
            continue
        row = {
            "id": p.id, "owner_id": owner, "user_input": p.user_input,
            "agent_response": p.agent_response, "ts": p.ts,
            "meta_json": json.dumps(p.meta, ensure_ascii=False),
            "keywords_json": json.dumps(p.keywords), "tier": p.tier, "segment_id": None,
            "analyzed": int(p.analyzed), "created_at": p.created_at,
        }  # fmt: skip
        ids[p.id] = page_store.restore(conn, _row(row, keep), vecs[p.id])
        new.add(p.id)
    return ids, new


def _import_segments(
    conn: Any,
    owner: int,
    export: ExportFile,
    page_ids: dict[int, int],
    new_pages: set[int],
    page_vecs: dict[int, Vector],
    same: bool,
) -> dict[int, int]:
    """Segments holding at least one new page; their new pages join them (`same`: the
    file's embedder is ours, so a whole segment keeps its centroid)."""
    keep = mid_term.is_empty(conn)
    ids: dict[int, int] = {}
    for s in export.segments:
        members = [p for p in export.pages if p.segment_id == s.id]
        fresh = [p for p in members if p.id in new_pages]
        if not fresh:
            continue
        whole = len(fresh) == len(members)
        if whole and same and s.centroid is not None:
            centroid = vectors.from_blob(s.centroid)
        else:
            mean = np.mean(np.stack([page_vecs[p.id] for p in fresh]), axis=0)
            centroid = normalize(mean[np.newaxis, :])[0]
        row = {
            "id": s.id, "owner_id": owner, "summary": s.summary,
            "keywords_json": json.dumps(s.keywords), "summary_source": s.summary_source,
            "n_visit": s.n_visit, "l_interaction": s.l_interaction,
            "last_visit_ts": s.last_visit_ts, "page_count": s.page_count if whole else len(fresh),
            "centroid": vectors.blob(centroid), "created_at": s.created_at,
            "updated_at": s.updated_at,
        }  # fmt: skip
        sid = mid_term.restore(conn, _row(row, keep), centroid)
        page_store.join_segment(conn, [page_ids[p.id] for p in fresh], sid)
        ids[s.id] = sid
    return ids


def _import_chain(
    conn: Any,
    owner: int,
    item_kind: Item,
    items: Sequence[Chained],
    key: Callable[[Chained], tuple[str, str, float]],
    page_ids: dict[int, int],
    vecs: dict[int, Vector] | None,
) -> int:
    """Profile items or facts, deduplicated by `key`, with superseded_by remapped."""
    keep = long_term.is_empty(conn, item_kind)
    existing = long_term.keys(conn, owner, item_kind)
    ids: dict[int, int] = {}
    added: list[Chained] = []
    for item in items:
        k = key(item)
        if k in existing:
            ids[item.id] = existing[k]
            continue
        row = item.model_dump(exclude={"superseded_by", "embedding"})
        row["owner_id"] = owner
        if isinstance(item, ProfileRecord):
            row["attribute"] = long_term.normalize_attribute(item.attribute)
        else:
            row["archived"] = int(item.archived)
        row["source_page_ids"] = json.dumps(sorted({page_ids[i] for i in item.source_page_ids}))
        vec = None if vecs is None else vecs[item.id]
        new_id = long_term.restore(conn, item_kind, _row(row, keep), vec)
        existing[k] = ids[item.id] = new_id
        added.append(item)
    for item in added:
        if item.superseded_by is not None:
            long_term.supersede(conn, item_kind, ids[item.id], ids[item.superseded_by])
    return len(added)


def _import_jobs(conn: Any, owner: int, export: ExportFile, seg_ids: dict[int, int]) -> int:
    """Jobs about the segments imported; a running job is pending here (its process is not)."""
    keep = job_queue.is_empty(conn)
    count = 0
    for job in export.jobs:
        target = seg_ids.get(job.target_id)
        if target is None and not (keep and job.state in ("done", "failed")):
            continue  # a finished job about a segment that is not here: no longer needed
        row = job.model_dump() | {"owner_id": owner, "target_id": target or job.target_id}
        if job.state == "running":
            row["state"] = "pending"
        already_open = job_queue.is_open(conn, row["kind"], row["target_id"])
        if not already_open or row["state"] not in ("pending", "running"):
            job_queue.restore(conn, _row(row, keep))
            count += 1
    return count


def check_exchanges(export: ExportFile, max_chars: int) -> None:
    """Each exchange as `add` checks it: no longer than `max_input_chars`, not empty on
    both sides, UTF-8 (a JSON escape can hold half a surrogate pair), NUL dropped. Before,
    an import stored a 200,000-character input that `add` refuses, and an empty exchange."""
    for i, page in enumerate(export.pages):
        try:
            page.user_input, page.agent_response = ingest.checked_sides(
                page.user_input, page.agent_response, max_chars
            )
        except InvalidInputError as exc:
            raise InvalidInputError(f"pages[{i}] (id {page.id}): {exc}; {NOTHING}") from exc


def import_data(scope: Scope, export: ExportFile) -> ImportCounts:
    """Merge a validated export into this user/assistant pair, in one transaction."""
    check_exchanges(export, scope.settings.max_input_chars)
    embedder = scope.embedder
    same = _same_embedder(embedder, export)
    page_vecs = _vectors(
        embedder,
        same,
        [(p.id, page_text(p.user_input, p.agent_response), p.embedding) for p in export.pages],
    )
    fact_vecs = _vectors(embedder, same, [(f.id, f.text, f.embedding) for f in export.knowledge])
    settings = scope.settings
    with scope.writing() as conn:
        owner = scope.owner_id
        page_ids, new_pages = _import_pages(conn, owner, export, page_vecs)
        seg_ids = _import_segments(conn, owner, export, page_ids, new_pages, page_vecs, same)
        profiles = _import_chain(
            conn, owner, "profile", export.profile,
            lambda i: (long_term.normalize_attribute(i.attribute), i.value, i.ts),
            page_ids, None,
        )  # fmt: skip
        long_term.one_current_value(conn, owner)
        facts = _import_chain(
            conn, owner, "fact", export.knowledge,
            lambda i: (i.kind, i.text, i.ts), page_ids, fact_vecs,
        )  # fmt: skip
        job_count = _import_jobs(conn, owner, export, seg_ids)
        for kind in ("user", "assistant"):
            long_term.enforce_capacity(conn, owner, kind, settings.long_term_knowledge_capacity)
        for page in short_term.overflow(conn, owner, settings.short_term_capacity):
            vec = vectors.get(conn, "pages_vec", [page.id])[page.id]
            mid_term.place_page(conn, owner, page, vec, settings=settings)
        mid_term.evict_lfu(conn, owner, capacity=settings.mid_term_capacity)
    return ImportCounts(
        pages=len(new_pages),
        duplicate_pages=len(export.pages) - len(new_pages),
        segments=len(seg_ids),
        profile_items=profiles,
        facts=facts,
        jobs=job_count,
    )
