"""The updater: turns a hot segment's unanalysed pages into profile and knowledge.

ONE LLM call per job, JSON constrained by schema, validated before anything is written.
The call runs outside any transaction; its result is applied, the pages marked analysed
and the job finished in one transaction, so a kill at any moment leaves the job either
pending (it runs again) or done (its effects committed exactly once).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from memoryos_cli.llm import LLM, prompts
from memoryos_cli.memory import jobs, long_term, mid_term
from memoryos_cli.memory.scope import Scope

MAX_PAGES_PER_CALL = 12
KNOWN_FACTS_SHOWN = 12
ANALYSIS_MAX_TOKENS = 700


class Cancelled(Exception):
    """The user needs the model: give the job back untouched."""


@dataclass
class Analysis:
    summary: str = ""
    keywords: list[str] = field(default_factory=list)
    profile: list[tuple[str, str, list[int]]] = field(default_factory=list)
    user_facts: list[tuple[str, list[int], list[int]]] = field(default_factory=list)
    assistant_facts: list[tuple[str, list[int], list[int]]] = field(default_factory=list)


def _ints(value: Any, allowed: set[int]) -> list[int]:
    out: list[int] = []
    for item in value if isinstance(value, list) else []:
        digits = re.sub(r"\D", "", str(item))
        if digits and int(digits) in allowed:
            out.append(int(digits))
    return out


def parse_analysis(raw: str, page_ids: set[int], known_ids: set[int]) -> Analysis:
    """Validate the model's JSON; keep only well-formed items with known references."""
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if match is None:
        raise ValueError("no JSON object in the model's reply")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"the model's reply is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("the model's reply is not a JSON object")
    out = Analysis()
    if isinstance(data.get("summary"), str):
        out.summary = data["summary"].strip()[:400]
    out.keywords = [k.strip().lower()[:40] for k in data.get("keywords", []) if isinstance(k, str)][
        :12
    ]
    for item in data.get("profile", []) if isinstance(data.get("profile"), list) else []:
        if not isinstance(item, dict):
            continue
        attr, value = item.get("attribute"), item.get("value")
        if isinstance(attr, str) and isinstance(value, str) and attr.strip() and value.strip():
            sources = _ints(item.get("sources"), page_ids) or sorted(page_ids)
            out.profile.append((attr, value.strip()[:300], sources))
    for key, target in (("user_facts", out.user_facts), ("assistant_facts", out.assistant_facts)):
        items = data.get(key, [])
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                continue
            text = item["text"].strip()[:500]
            if len(text) < 4:
                continue
            sources = _ints(item.get("sources"), page_ids) or sorted(page_ids)
            target.append((text, sources, _ints(item.get("supersedes"), known_ids)))
    return out


def run_pending(
    scope: Scope,
    llm: LLM,
    *,
    max_jobs: int | None = None,
    cancel: threading.Event | None = None,
    failed: set[int] | None = None,
) -> int:
    """Drain this owner's queue (up to `max_jobs`); returns how many jobs completed.

    A job whose reply failed goes back to the queue and its id into `failed`, which this
    drain (and any later drain given the same set) skips: a model that cannot analyse a
    segment would otherwise spend all its attempts in a row while the user waits at exit
    (SmolLM2 here: ~30 s per attempt).
    """
    store = scope.store
    with store.transaction() as conn:
        jobs.recover(conn)
    done = 0
    failed = set() if failed is None else failed
    while max_jobs is None or done < max_jobs:
        if cancel is not None and cancel.is_set():
            break
        with store.transaction() as conn:
            job = jobs.claim(conn, scope.owner_id, skip=failed)
        if job is None:
            break
        try:
            analyse_segment(scope, llm, job, cancel)
        except Cancelled:
            with store.transaction() as conn:
                conn.execute(
                    "UPDATE jobs SET state = 'pending', attempts = attempts - 1,"
                    " claimed_by = NULL WHERE id = ?",
                    (job.id,),
                )
            break
        except Exception as exc:  # noqa: BLE001 - a bad reply must never kill the worker
            with store.transaction() as conn:
                jobs.release(conn, job, f"{type(exc).__name__}: {exc}")
            failed.add(job.id)
            continue
        done += 1
    return done


def analyse_segment(
    scope: Scope, llm: LLM, job: jobs.Job, cancel: threading.Event | None = None
) -> None:
    store = scope.store
    with store.lock:
        conn = store.conn
        page_rows = conn.execute(
            "SELECT id, ts, user_input, agent_response FROM pages"
            " WHERE segment_id = ? AND analyzed = 0 ORDER BY id LIMIT ?",
            (job.target_id, MAX_PAGES_PER_CALL),
        ).fetchall()
        known = long_term.facts(conn, scope.owner_id)[-KNOWN_FACTS_SHOWN:]
        current_profile = long_term.profile(conn, scope.owner_id)
    if not page_rows:
        with store.transaction() as conn:
            jobs.finish(conn, job, "nothing to analyse")
        return
    pages = [(int(r[0]), float(r[1]), r[2], r[3]) for r in page_rows]
    known_lines = [f"k{f.id}: {f.text}" for f in known] + [
        f"profile {p.attribute}: {p.value}" for p in current_profile
    ]
    messages = prompts.analysis_messages(pages, known_lines)
    page_ids, known_ids = {p[0] for p in pages}, {f.id for f in known}
    # Free generation first: llama.cpp's grammar sampler checks the whole vocabulary at
    # every token (~1 tok/s against ~12 for Qwen 1.5B here). Only a reply that fails
    # validation pays for the schema-constrained retry.
    raw = llm.complete(messages, max_tokens=ANALYSIS_MAX_TOKENS, temperature=0.0)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    try:
        analysis = parse_analysis(raw, page_ids, known_ids)
    except ValueError:
        raw = llm.complete(
            messages,
            max_tokens=ANALYSIS_MAX_TOKENS,
            temperature=0.0,
            json_schema=prompts.ANALYSIS_SCHEMA,
        )
        if cancel is not None and cancel.is_set():
            raise Cancelled() from None
        analysis = parse_analysis(raw, page_ids, known_ids)
    texts = [t for t, _, _ in analysis.user_facts + analysis.assistant_facts]
    vecs: list[Any] = list(scope.embedder.embed(texts)) if texts else []
    page_ts = {p[0]: p[1] for p in pages}
    with store.transaction() as conn:
        if not jobs.still_mine(conn, job):
            return  # another process finished or reclaimed it: its result stands
        apply_analysis(conn, scope, job.target_id, analysis, vecs, page_ts)
        marks = ",".join("?" * len(pages))
        conn.execute(f"UPDATE pages SET analyzed = 1 WHERE id IN ({marks})", [p[0] for p in pages])
        jobs.finish(conn, job)


def apply_analysis(
    conn: Any,
    scope: Scope,
    segment_id: int,
    analysis: Analysis,
    vecs: list[Any],
    page_ts: dict[int, float],
) -> None:
    cap = scope.settings.long_term_knowledge_capacity
    for attr, value, sources in analysis.profile:
        ts = max(page_ts.get(s, 0.0) for s in sources)
        long_term.upsert_profile(conn, scope.owner_id, attr, value, sources, ts)
    kinds = [("user", f) for f in analysis.user_facts] + [
        ("assistant", f) for f in analysis.assistant_facts
    ]
    for (kind, (text, sources, supersedes)), vec in zip(kinds, vecs, strict=True):
        ts = max(page_ts.get(s, 0.0) for s in sources)
        long_term.add_fact(
            conn, scope.owner_id, kind, text, vec, sources, ts, supersedes, capacity=cap
        )
    if analysis.summary:
        conn.execute(
            "UPDATE segments SET summary = ?, summary_source = 'llm', updated_at = ? WHERE id = ?",
            (analysis.summary, time.time(), segment_id),
        )
    if analysis.keywords:
        seg = mid_term.get_segment(conn, segment_id)
        if seg is not None:
            merged = list(dict.fromkeys(analysis.keywords + seg.keywords))[
                : mid_term.SEGMENT_KEYWORDS
            ]
            conn.execute(
                "UPDATE segments SET keywords_json = ? WHERE id = ?",
                (json.dumps(merged), segment_id),
            )
    # Heat resets after analysis, as in MemoryOS.
    conn.execute(
        "UPDATE segments SET n_visit = 0, l_interaction = 0, last_visit_ts = ? WHERE id = ?",
        (scope.logical_now(conn), segment_id),
    )
