"""Read one user/assistant pair out of the store as an `ExportFile`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from memoryos_cli.config import MACHINE_LOCAL, Settings
from memoryos_cli.memory import jobs as job_queue
from memoryos_cli.memory import long_term, mid_term
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.heat import recency
from memoryos_cli.memory.pages import logical_now
from memoryos_cli.memory.portable.format import (
    FORMAT,
    FORMAT_VERSION,
    EmbedderInfo,
    ExportFile,
    FactRecord,
    JobRecord,
    PageRecord,
    ProfileRecord,
    SegmentRecord,
)
from memoryos_cli.memory.scope import Scope
from memoryos_cli.store import vectors

# The store's rows are written as they are: `model_construct` skips validation, so an
# export never fails on what the store holds (import is where a file is checked).


def _pages(conn: Any, owner: int) -> list[PageRecord]:
    return [
        PageRecord.model_construct(
            id=int(r[0]),
            user_input=r[1],
            agent_response=r[2],
            ts=float(r[3]),
            tier=r[4],
            segment_id=None if r[5] is None else int(r[5]),
            meta=json.loads(r[6]),
            keywords=json.loads(r[7]),
            analyzed=bool(r[8]),
            created_at=float(r[9]),
        )
        for r in page_store.export_rows(conn, owner)
    ]


def _segments(
    conn: Any, owner: int, embeddings: bool, *, settings: Settings
) -> list[SegmentRecord]:
    now = logical_now(conn, owner)
    out = []
    for r in mid_term.export_rows(conn, owner):
        seg = mid_term.segment_from_row(r)
        fields = {k: v for k, v in asdict(seg).items() if k not in ("heat", "recency")}
        out.append(
            SegmentRecord.model_construct(
                **fields,
                recency=recency(seg.last_visit_ts, now, settings.heat_tau_hours),
                heat=mid_term.heat_of(seg, now, settings),
                created_at=float(r[8]),
                updated_at=float(r[9]),
                centroid=bytes(r[10]) if embeddings else None,
            )
        )
    return out


def _profile(conn: Any, owner: int) -> list[ProfileRecord]:
    return [
        ProfileRecord.model_construct(
            **asdict(long_term.profile_from_row(r)), created_at=float(r[8])
        )
        for r in long_term.export_rows(conn, owner, "profile")
    ]


def _knowledge(conn: Any, owner: int) -> list[FactRecord]:
    return [
        FactRecord.model_construct(**asdict(long_term.fact_from_row(r)), created_at=float(r[9]))
        for r in long_term.export_rows(conn, owner, "fact")
    ]


def _jobs(conn: Any, owner: int) -> list[JobRecord]:
    return [
        JobRecord.model_construct(
            id=int(r[0]),
            kind=r[1],
            target_id=int(r[2]),
            state=r[3],
            attempts=int(r[4]),
            error=r[5],
            created_at=float(r[6]),
            updated_at=float(r[7]),
        )
        for r in job_queue.export_rows(conn, owner)
    ]


def build(scope: Scope, *, embeddings: bool = False) -> ExportFile:
    """Everything of this user/assistant pair; `embeddings` adds the vectors."""
    store, owner = scope.store, scope.owner_id
    with store.lock:
        conn = store.conn
        pages = _pages(conn, owner)
        segments = _segments(conn, owner, embeddings, settings=scope.settings)
        profile = _profile(conn, owner)
        knowledge = _knowledge(conn, owner)
        jobs = _jobs(conn, owner)
        if embeddings:
            for items, table in ((pages, "pages_vec"), (knowledge, "knowledge_vec")):
                got = vectors.get(conn, table, [i.id for i in items])
                for item in items:
                    if item.id in got:
                        item.embedding = vectors.blob(got[item.id])
        schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
    settings = {k: v for k, v in asdict(scope.settings).items() if k not in MACHINE_LOCAL}
    return ExportFile.model_construct(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        schema_version=schema,
        exported_at=time.time(),
        user_id=scope.settings.user_id,
        assistant_id=scope.settings.assistant_id,
        embedder=EmbedderInfo.model_construct(name=scope.embedder.name, dim=scope.embedder.dim),
        embeddings=embeddings,
        settings=settings,
        pages=pages,
        segments=segments,
        profile=profile,
        knowledge=knowledge,
        jobs=jobs,
    )


def export_data(scope: Scope, *, embeddings: bool = False) -> dict[str, Any]:
    """The export as plain JSON-able data (vectors as base64)."""
    return build(scope, embeddings=embeddings).to_data()
