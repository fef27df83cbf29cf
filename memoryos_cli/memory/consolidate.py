"""The updater: turns unanalysed pages into profile and knowledge.

One LLM call per batch of pages, and a second over the pages where the user told
something the first left unheard; each reply validated before anything is written. Two
kinds of job feed it: a hot mid-term segment (MemoryOS's heat trigger) and a batch of
recent pages (a full batch during a session, the rest when the session ends), so a new
user's profile fills in during their first session and every page is analysed exactly
once. The calls run outside any transaction; their result is applied, the pages marked
analysed and the job finished in one transaction, so a kill at any moment leaves the
job either pending (it runs again) or done (its effects committed exactly once).
"""

from __future__ import annotations

import threading
from typing import Any

from memoryos_cli.llm import LLM, Message, prompts
from memoryos_cli.memory import analysis_log, jobs, long_term, mid_term, rules
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.analysis import Analysis, read_reply, reply_schema
from memoryos_cli.memory.context import CountTokens, message_tokens, shorten
from memoryos_cli.memory.dates import pin_relative_dates
from memoryos_cli.memory.pages import Excerpt
from memoryos_cli.memory.person import known_name
from memoryos_cli.memory.rules import split_own_clauses
from memoryos_cli.memory.scope import Scope

# A batch this size is one call of ~1,000 prompt tokens (and at most one second look);
# during a session a job is queued only once a full batch waits, so consolidation stays
# under 0.2 calls per page.
PAGES_PER_CALL = 12
EXCERPT_SIDE_TOKENS = 400
SHORTEST_SIDE_TOKENS = 32
# A page's header ("[page 12 | Mon 8 May 2023]", "User:", "Assistant:") and the dates
# pinned after relative times ("yesterday (7 May 2023)") on top of its two sides.
PAGE_OVERHEAD = 40
CONTEXT_MARGIN = 32  # the chat template's own tokens around the messages
ANALYSIS_MAX_TOKENS = 700
# Greedy decoding lets a small model repeat itself ("job = counselor" on eight pages, one
# fact on every page): a mild penalty on repeated tokens gives more and better facts in
# half the time (docs/benchmarks.md, "Numbers behind the code").
ANALYSIS_REPEAT_PENALTY = 1.1


class Cancelled(Exception):
    """The user needs the model: give the job back untouched."""


class PagesForgotten(Exception):
    """A page of the batch was forgotten while the model read it: the reply is dropped
    and the job runs again over the pages left (forget wins every race)."""


def queue_pages(conn: Any, owner_id: int, *, min_pages: int | None = None) -> bool:
    """Queue analysis of the owner's unanalysed pages once `min_pages` of them wait
    (default: a full batch) beyond those an open job already covers.

    The job's target is the newest page id it covers; page ids are unique across owners,
    so one open job per target is also one per owner and batch.
    """
    covered = jobs.newest_open_target(conn, owner_id, jobs.ANALYZE_PAGES)
    waiting, newest = page_store.unanalysed_after(conn, owner_id, covered or 0)
    if newest is None or waiting < (min_pages or PAGES_PER_CALL):
        return False
    return jobs.enqueue(conn, owner_id, jobs.ANALYZE_PAGES, newest)


def mark_digested(conn: Any, owner_id: int, but_newest: int, note: str) -> None:
    """Every page of the owner analysed but the newest `but_newest`, every job done with
    `note`: a history loaded as already digested (a session's end queues the rest)."""
    jobs.mark_all_done(conn, owner_id, note)
    newest = page_store.newest_ids(conn, owner_id, but_newest) if but_newest else []
    page_store.mark_all_analyzed(conn, owner_id, but_from=newest[0] if newest else None)


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
            analyse(scope, llm, job, cancel)
        except Cancelled:
            with store.transaction() as conn:
                jobs.give_back(conn, job)
            break
        except PagesForgotten:
            continue  # given back in the transaction that found it; claimed again next
        except Exception as exc:  # noqa: BLE001 - a bad reply must never kill the worker
            with store.transaction() as conn:
                jobs.release(conn, job, f"{type(exc).__name__}: {exc}")
            failed.add(job.id)
            continue
        done += 1
    return done


def _batch(
    conn: Any, owner_id: int, job: jobs.Job, room: int, count_tokens: CountTokens
) -> list[Excerpt]:
    """The unanalysed pages a job covers, oldest first, at most one call's worth.

    The call must fit the model's context whatever was said or pasted: pages are counted
    with the model's own tokenizer (Chinese text is ~1 token a character, not 4), each
    side of a page is cut (in the prompt only), and the batch ends once `room` is full.
    """
    if job.kind == jobs.ANALYZE_PAGES:
        found = page_store.unanalysed_up_to(conn, owner_id, job.target_id, PAGES_PER_CALL)
    else:
        found = page_store.unanalysed_in_segment(conn, job.target_id, PAGES_PER_CALL)
    side = max(SHORTEST_SIDE_TOKENS, min(EXCERPT_SIDE_TOKENS, (room - PAGE_OVERHEAD) // 2))
    batch: list[Excerpt] = []
    used = 0
    for pid, ts, said, answer in found:
        user, agent = (shorten(t, side, count_tokens) for t in (said, answer))
        cost = count_tokens(user) + count_tokens(agent) + PAGE_OVERHEAD
        if batch and used + cost > room:
            break
        batch.append((pid, ts, user, agent))
        used += cost
    return batch


def excerpt_room(llm: LLM, fixed: list[Message]) -> int:
    """Tokens left for the pages of one call: the model's context less the instructions
    and profile (`fixed`, the call's messages without pages) and the reply."""
    instructions = message_tokens(fixed, llm.count_tokens)
    return llm.context_size - instructions - ANALYSIS_MAX_TOKENS - CONTEXT_MARGIN


def analyse(scope: Scope, llm: LLM, job: jobs.Job, cancel: threading.Event | None = None) -> None:
    """Run one job: one call over its batch (and a second look at the pages it left
    unheard), applied with the job's done-marker."""
    store, owner = scope.store, scope.owner_id
    with store.lock:
        conn = store.conn
        current_profile = long_term.profile(conn, owner)
        known_lines = [f"{p.attribute.replace('_', ' ')} = {p.value}" for p in current_profile]
        name = known_name(current_profile)
        fixed = prompts.analysis_messages([], known_lines, name, zone=scope.settings.zone)
        pages = _batch(conn, owner, job, excerpt_room(llm, fixed), llm.count_tokens)
        answered = page_store.answered_by_model(conn, (p[0] for p in pages))
    if not pages:
        with store.transaction() as conn:
            jobs.finish(conn, job, "nothing to analyse")
        return
    # Only the profile is shown as known, in the shape the reply uses (an item repeated back
    # is the same item). Stored facts are not: Qwen 1.5B copied them back as new findings
    # instead of reading the pages, and never marked one as corrected; with none shown it
    # learns three times as many facts (docs/benchmarks.md, "Numbers behind the code"). A
    # fact said again merges in `add_fact`.
    # "yesterday" pinned to its date: the model copies a date more reliably than it counts.
    zone = scope.settings.zone

    def readable(text: str, ts: float) -> str:
        return split_own_clauses(pin_relative_dates(text, ts, zone))

    shown = [(pid, ts, readable(u, ts), readable(a, ts)) for pid, ts, u, a in pages]
    page_ids: set[int] = {p[0] for p in pages}

    # Free generation first: llama.cpp's grammar sampler checks the whole vocabulary at
    # every token (~1 tok/s against ~12 for Qwen 1.5B here). Only a reply with no JSON
    # object, or with no well-formed item, pays for the schema-constrained retry; one bad
    # item among good ones costs only itself.
    def look(rows: list[Excerpt], known: list[str], name: str) -> Analysis:
        messages = prompts.analysis_messages(rows, known, name, zone=zone)
        ids = {row[0] for row in rows}

        def ask(**sampling: Any) -> str:
            raw = llm.complete(
                messages, max_tokens=ANALYSIS_MAX_TOKENS, temperature=0.0, **sampling
            )
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            return raw

        try:
            return read_reply(ask(repeat_penalty=ANALYSIS_REPEAT_PENALTY), ids)
        except ValueError:
            return read_reply(ask(json_schema=reply_schema()), ids)

    analysis = look(shown, known_lines, name)
    batch = rules.Batch(pages, shown, current_profile, zone=zone, answered=answered)
    notes = rules.apply_rules(analysis, batch)
    unheard = set(rules.unheard_pages(analysis, batch))
    if unheard:
        # A second look at only the pages where the user told something and nothing was
        # kept: the model reads a short batch closely (issue 23's Oslo line was stored from
        # its page alone, never from the three together). It is told the user's name, so
        # facts name the user, and nothing else the first look found: shown the profile,
        # Qwen 1.5B wrote it back as the page's facts.
        user = name or batch.user_name
        told = known_lines if name or not user else [*known_lines, f"name = {user}"]
        try:
            second = look([row for row in shown if row[0] in unheard], told, user)
        except ValueError:  # the first look stands on its own
            second = Analysis()
        again = rules.Batch(
            [row for row in pages if row[0] in unheard],
            [row for row in shown if row[0] in unheard],
            current_profile,
            zone=zone,
            earlier=rules.items_of(analysis),
            answered=answered,
        )
        notes += rules.apply_rules(second, again)
        analysis.add(second)
    notes += rules.moved_on(analysis, batch)
    texts = [t for t, _ in analysis.user_facts + analysis.assistant_facts]
    vecs: list[Any] = list(scope.embedder.embed(texts)) if texts else []
    page_ts = {p[0]: p[1] for p in pages}
    with store.transaction() as conn:
        if not jobs.still_mine(conn, job):
            return  # another process finished or reclaimed it: its result stands
        forgotten = page_store.existing_ids(conn, owner, sorted(page_ids)) != page_ids
        if forgotten:
            # What a forgotten page said may sit in any item of the reply (a fact citing
            # the wrong page, the summary): none of it is kept.
            jobs.give_back(conn, job)
        else:
            segment_id = job.target_id if job.kind == jobs.ANALYZE_SEGMENT else None
            apply_analysis(
                conn,
                owner,
                segment_id,
                analysis,
                vecs,
                page_ts,
                capacity=scope.settings.long_term_knowledge_capacity,
            )
            page_store.mark_analyzed(conn, sorted(page_ids))
            analysis_log.record(conn, owner, job.id, notes + rules.kept_notes(analysis))
            jobs.finish(conn, job)
            if job.kind == jobs.ANALYZE_PAGES and page_store.unanalysed_ids(
                conn, owner, job.target_id
            ):
                # More than one call's worth was queued: the next batch goes back in line.
                jobs.enqueue(conn, owner, jobs.ANALYZE_PAGES, job.target_id)
    if forgotten:
        raise PagesForgotten()


def apply_analysis(
    conn: Any,
    owner_id: int,
    segment_id: int | None,
    analysis: Analysis,
    vecs: list[Any],
    page_ts: dict[int, float],
    *,
    capacity: int,
) -> None:
    for attr, value, sources in analysis.profile:
        ts = max(page_ts.get(s, 0.0) for s in sources)
        long_term.upsert_profile(conn, owner_id, attr, value, sources, ts)
    kinds = [("user", f) for f in analysis.user_facts] + [
        ("assistant", f) for f in analysis.assistant_facts
    ]
    for (kind, (text, sources)), vec in zip(kinds, vecs, strict=True):
        ts = max(page_ts.get(s, 0.0) for s in sources)
        long_term.add_fact(conn, owner_id, kind, text, vec, sources, ts, capacity=capacity)
    if segment_id is not None:  # a batch of recent pages has no segment to summarize
        mid_term.analysed(conn, owner_id, segment_id, analysis.summary, analysis.keywords)
