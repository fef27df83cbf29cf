"""`bench locomo --mode qa --pipeline full`: the path a user takes, measured end to end.

Each conversation is played through `add_memory` session by session; at the end of each
session the store does what `memoryos chat` does at exit (`end_session`, then
`consolidate` with the chat model). Every method then answers through the chat's own
prompt builder (`Memoryos.prepare`, same token budget, a short-answer style hint, no
recent turns), so they differ only in what they recall:

- `no_memory`: nothing recalled;
- `hybrid`: flat BM25 + dense (RRF) pages;
- `memoryos_pages`: memoryos's tiers, pages only (the method before long-term memory);
- `memoryos_full`: pages + knowledge + profile (what the chat recalls).

Page recall@k is measured on the same played stores, over every question whose evidence
lies in the sessions played (no model is needed, so not only those answered): the page
ranking on the path the chat takes, with LLM segment summaries and facts in the store.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from memoryos_cli.api import Memoryos
from memoryos_cli.bench import metrics
from memoryos_cli.bench.facts import FactQuality, grade
from memoryos_cli.bench.locomo import TIMEZONE, Conversation, Question
from memoryos_cli.bench.locomo_bench import RECALL_AT
from memoryos_cli.bench.methods import METHODS, hybrid
from memoryos_cli.config import Settings
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.files import write_private
from memoryos_cli.llm import LLM, GenerationStats, Message
from memoryos_cli.memory.records import Recall
from memoryos_cli.memory.retrieve import page_item

PIPELINE_METHODS = ("no_memory", "hybrid", "memoryos_pages", "memoryos_full")
SHORT_ANSWER = (
    "answer the question about the conversation in a few words, no explanation; for a "
    "'when' question give the date"
)
ANSWER_TOKENS = 48
RECALL_METHODS = ("bm25", "hybrid", "memoryos")


class CountingLLM:
    """Wraps the chat model to count the calls and seconds each phase spends."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.seconds = 0.0

    @property
    def last_stats(self) -> GenerationStats:
        return self.inner.last_stats

    def complete(self, messages: list[Message], **kwargs: Any) -> str:
        self.calls += 1
        start = time.perf_counter()
        try:
            return self.inner.complete(messages, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def stream(self, messages: list[Message], **kwargs: Any) -> Iterator[str]:
        self.calls += 1
        start = time.perf_counter()
        try:
            yield from self.inner.stream(messages, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def warm(self, messages: list[Message]) -> None:
        self.inner.warm(messages)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Answer:
    method: str
    category: int
    f1: float
    bleu1: float
    prompt_tokens: int
    recalled_tokens: int
    ttft_s: float
    tiers: Counter[str]
    text: str = ""
    question: str = ""
    gold: str = ""
    # share of the gold answer's words in the memory the prompt gave (`metrics.words_found`)
    words_recalled: float = 0.0


@dataclass
class Consolidation:
    exchanges: int = 0
    calls: int = 0
    seconds: float = 0.0
    jobs_failed: int = 0


@dataclass
class PipelineRun:
    answers: list[Answer] = field(default_factory=list)
    consolidation: Consolidation = field(default_factory=Consolidation)
    facts: FactQuality = field(default_factory=FactQuality)
    # method -> one {k: evidence recall@k} per question
    recall: defaultdict[str, list[dict[int, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def play(
    mem: Memoryos, conv: Conversation, llm: CountingLLM, sessions: int | None, say: Callable
) -> Consolidation:
    """Store the conversation as chat sessions, consolidating at each session's end."""
    out = Consolidation()
    for number, session in enumerate(conv.sessions()[:sessions], start=1):
        for ex in session:
            mem.add_memory(ex.user_input, ex.agent_response, ex.when, ex.meta)
        out.exchanges += len(session)
        mem.end_session()
        calls, start = llm.calls, time.perf_counter()
        mem.consolidate()
        out.calls += llm.calls - calls
        out.seconds += time.perf_counter() - start
        say(
            f"{conv.sample_id} session {number}: {len(session)} exchanges, "
            f"{llm.calls - calls} consolidation call(s), {time.perf_counter() - start:.0f} s"
        )
    out.jobs_failed = sum(n for state, n in mem.stats()["jobs"].items() if state != "done")
    return out


PLAYED = "played.json"


def play_once(
    mem: Memoryos, conv: Conversation, llm: CountingLLM, sessions: int | None, say: Callable
) -> Consolidation:
    """`play`, or what an earlier run recorded when its store is being reused (`--keep`):
    answer-side changes are then measured on the very same memories."""
    import json

    record = mem.settings.home / PLAYED
    if record.exists():
        kept = json.loads(record.read_text())
        if kept["model"] != llm.name or kept["sessions"] != sessions:
            raise InvalidInputError(
                f"{mem.settings.home} was played with {kept['model']} over "
                f"{kept['sessions']} sessions, not {llm.name} over {sessions}: use another --keep"
            )
        say(f"{conv.sample_id}: reusing the store played earlier in {mem.settings.home}")
        return Consolidation(**kept["consolidation"])
    out = play(mem, conv, llm, sessions, say)
    write_private(
        record,
        json.dumps({"model": llm.name, "sessions": sessions, "consolidation": asdict(out)}),
    )
    return out


def recall_for(method: str, mem: Memoryos, question: str, depth: int) -> Recall:
    """What each method hands the chat's prompt builder."""
    empty = Recall(question, [], [], [], [], long_term=False)
    if method == "no_memory":
        return empty
    if method == "hybrid":
        qvec = mem.embedder.embed_query([question])[0]
        ids = hybrid(mem, question, qvec, depth)
        pages = {p.id: p for p in mem.pages(ids)}
        # One score for all, in rank order: the flat baseline's top-k pages fill the budget
        # as ranked. Made-up scores by rank (1/rank) let the prompt's relative-score cut keep
        # only its first page or two.
        items = [page_item(pages[i], 1.0, 0.0) for i in ids if i in pages]
        return Recall(question, [], items, [], [], long_term=False)
    recall = mem.retrieve(question, k=depth, touch=False)
    if method == "memoryos_pages":
        return Recall(question, recall.short_term, recall.mid_term, [], [], long_term=False)
    return recall


def answer(mem: Memoryos, llm: CountingLLM, method: str, q: Question, depth: int) -> Answer:
    recall = recall_for(method, mem, q.text, depth)
    built = mem.prepare(q.text, style_hint=SHORT_ANSWER, recall=recall, recent=False)
    prompt_tokens = sum(llm.count_tokens(m["content"]) for m in built.messages)
    start = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    # made as the chat makes it (its temperature, its banned foods): the answers a user gets
    for piece in mem.stream_answer(built, max_tokens=ANSWER_TOKENS):
        first = first if first is not None else time.perf_counter() - start
        parts.append(piece)
    text = "".join(parts).strip()
    tiers = Counter(item.tier for item in built.recalled)
    memory = list(built.lines)
    if recall.profile and method == "memoryos_full":
        tiers["profile"] += len(recall.profile)
        memory += [item.value for item in recall.profile]
    return Answer(
        method,
        q.category,
        metrics.f1_score(text, q.answer),
        metrics.bleu1(text, q.answer),
        prompt_tokens,
        built.recalled_tokens,
        first if first is not None else time.perf_counter() - start,
        tiers,
        text,
        q.text,
        q.answer,
        metrics.words_found(q.answer, "\n".join(memory)),
    )


def page_recall(run: PipelineRun, mem: Memoryos, questions: list[Question]) -> None:
    """Evidence recall@k of each RECALL_METHODS ranking of the played store's pages."""
    dia_ids = {p.id: p.meta.get("dia_ids", []) for p in mem.pages()}
    if not questions:
        return
    qvecs = mem.embedder.embed_query([q.text for q in questions])
    for q, qvec in zip(questions, qvecs, strict=True):
        for name in RECALL_METHODS:
            ranked = METHODS[name](mem, q.text, qvec, max(RECALL_AT))
            found = [dia_ids.get(pid, []) for pid in ranked]
            run.recall[name].append(
                {n: metrics.evidence_recall(q.evidence, found, n) for n in RECALL_AT}
            )


def run_conversation(
    run: PipelineRun,
    mem: Memoryos,
    conv: Conversation,
    questions: list[Question],
    llm: CountingLLM,
    *,
    sessions: int | None,
    depth: int,
    methods: tuple[str, ...],
    say: Callable,
    pool: list[Question],
) -> None:
    """Play (or reuse) the store, grade its facts, rank its pages for every question of
    `pool` (those of the sessions played) and answer `questions` (a subset) by method."""
    run.consolidation = _add(run.consolidation, play_once(mem, conv, llm, sessions, say))
    run.facts.add(grade(mem, conv, sessions))
    say(f"{conv.sample_id}: page recall over {len(pool)} questions")
    page_recall(run, mem, pool)
    say(f"{conv.sample_id}: {len(questions)} questions x {len(methods)} methods")
    # Each method answers all its questions in a row, as a chat keeps one system message:
    # its stable prefix stays in llama.cpp's cache. Taking turns per question made every
    # method evaluate the prefix another method had left (the full method's profile
    # lines made its TTFT 1.83 s against pages only's 0.66 s for 36 more prompt tokens).
    for method in methods:
        for q in questions:
            run.answers.append(answer(mem, llm, method, q, depth))


def _add(a: Consolidation, b: Consolidation) -> Consolidation:
    return Consolidation(
        a.exchanges + b.exchanges,
        a.calls + b.calls,
        a.seconds + b.seconds,
        a.jobs_failed + b.jobs_failed,
    )


def _mean(values: list[float]) -> float | None:
    return round(metrics.mean(values), 4) if values else None


BASELINE = "memoryos_pages"


def against(answers: list[Answer], methods: tuple[str, ...]) -> dict[str, Any]:
    """Each method's F1 less pages only's, question by question, with a 95% bootstrap
    interval: whether a difference is more than a few answers worded otherwise."""
    # every method answers the same questions in the same order (`run_conversation`)
    base = [a for a in answers if a.method == BASELINE]
    out: dict[str, Any] = {}
    for method in methods:
        mine = [a for a in answers if a.method == method]
        if method == BASELINE or not base or len(mine) != len(base):
            continue
        diffs = [a.f1 - b.f1 for a, b in zip(mine, base, strict=True) if a.question == b.question]
        if diffs:
            low, high = metrics.paired_interval(diffs)
            out[method] = {
                "questions": len(diffs),
                "f1_difference": round(metrics.mean(diffs), 4),
                "interval95": [round(low, 4), round(high, 4)],
                "answers_changed": sum(1 for d in diffs if d),
            }
    return out


def summarize(run: PipelineRun, methods: tuple[str, ...]) -> dict[str, Any]:
    """The report: per method F1/BLEU-1 overall and by category, tokens, TTFT, tiers."""
    out: dict[str, Any] = {"methods": {}}
    for method in methods:
        mine = [a for a in run.answers if a.method == method]
        tiers: Counter[str] = Counter()
        for a in mine:
            tiers.update(a.tiers)
        out["methods"][method] = {
            "questions": len(mine),
            "f1": _mean([a.f1 for a in mine]),
            "bleu1": _mean([a.bleu1 for a in mine]),
            "by_category": {
                str(c): {"f1": _mean([a.f1 for a in mine if a.category == c])}
                for c in sorted({a.category for a in mine})
            },
            "prompt_tokens_per_answer": _mean([a.prompt_tokens for a in mine]),
            "recalled_tokens_per_answer": _mean([a.recalled_tokens for a in mine]),
            "answer_words_recalled": _mean([a.words_recalled for a in mine]),
            "ttft_s_per_answer": _mean([a.ttft_s for a in mine]),
            "llm_calls_per_answer": 1,
            "recalled_items_by_tier": {
                tier: round(n / max(1, len(mine)), 2) for tier, n in sorted(tiers.items())
            },
        }
    out["against_pages"] = against(run.answers, methods)
    c = run.consolidation
    out["consolidation"] = {
        "exchanges": c.exchanges,
        "llm_calls": c.calls,
        "calls_per_exchange": round(c.calls / c.exchanges, 4) if c.exchanges else None,
        "seconds_per_exchange": round(c.seconds / c.exchanges, 2) if c.exchanges else None,
        "jobs_not_done": c.jobs_failed,
    }
    out["page_recall"] = {
        name: {
            "questions": len(rows),
            **{f"recall@{n}": _mean([r[n] for r in rows]) for n in RECALL_AT},
        }
        for name, rows in run.recall.items()
    }
    out["facts"] = run.facts.report()
    out["fact_pairs"] = {"recall": run.facts.recall_pairs, "support": run.facts.support_pairs}
    out["answers"] = [
        {
            "method": a.method,
            "category": a.category,
            "question": a.question,
            "gold": a.gold,
            "answer": a.text,
            "f1": round(a.f1, 4),
        }
        for a in run.answers
    ]
    return out


def run_pipeline(
    data: Any,
    *,
    questions: int | None = None,
    seed: int = 0,
    sessions: int | None = None,
    depth: int = 10,
    methods: tuple[str, ...] = PIPELINE_METHODS,
    embedder: Any = None,
    llm: LLM | None = None,
    model: str | None = None,
    progress: Callable[[str], None] | None = None,
    keep: Path | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Play, consolidate and answer every conversation; the report of `summarize`.

    `model` (a catalogue name or GGUF path) is loaded with `settings` (threads, context,
    seed: the user's configuration, `--home` included); by default the configured one.

    `sessions` plays only each conversation's first sessions (and asks only questions
    whose evidence lies in them): a full dev file costs ~40 consolidation calls of ~30 s
    each with Qwen 1.5B on 2 free cores. `keep` keeps each conversation's played store
    in a folder of its own and reuses it on a later run with the same model and sessions.
    """
    import tempfile

    from memoryos_cli.bench.locomo import load_locomo, select_questions

    unknown = [m for m in methods if m not in PIPELINE_METHODS]
    if unknown:
        raise InvalidInputError(
            f"unknown method(s) {', '.join(unknown)}; known: {', '.join(PIPELINE_METHODS)}"
        )
    say = progress or (lambda _msg: None)
    conversations = load_locomo(data)
    played: dict[str, set[int]] = {
        c.sample_id: {g[0].session for g in c.sessions()[:sessions]} for c in conversations
    }

    def in_played(q: Question) -> bool:
        spans = {int(e[1:].split(":")[0]) for e in q.evidence}
        return bool(spans) and spans <= played[q.conversation]

    pool = [q for c in conversations for q in c.questions if in_played(q)]
    chosen = select_questions(pool, questions, seed)
    if not chosen:
        raise InvalidInputError(f"{data}: no scored questions in the sessions played")
    run = PipelineRun()
    counting: CountingLLM | None = CountingLLM(llm) if llm is not None else None
    for conv in conversations:
        asked = [q for q in chosen if q.conversation == conv.sample_id]
        if not asked:
            continue
        with contextlib.ExitStack() as stack:
            if keep is None:
                home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="memoryos-")))
            else:
                home = keep / f"{conv.sample_id}-sessions-{sessions or 'all'}"
            if counting is None:
                from memoryos_cli.config import load_settings
                from memoryos_cli.llm.loader import load_llm

                say("loading the chat model")
                settings = settings or load_settings()
                counting = CountingLLM(load_llm(model or settings.model, settings))
            with Memoryos(
                "locomo",
                conv.sample_id,
                home,
                llm_model=counting,
                embedder=embedder,
                timezone=TIMEZONE,
                # the user's chat temperature (None: the default, or MEMORYOS_* as set)
                answer_temperature=settings.answer_temperature if settings else None,
            ) as mem:
                run_conversation(
                    run,
                    mem,
                    conv,
                    asked,
                    counting,
                    sessions=sessions,
                    depth=depth,
                    methods=methods,
                    say=say,
                    pool=[q for q in pool if q.conversation == conv.sample_id],
                )
    report = summarize(run, methods)
    report.update(
        {
            "mode": "qa",
            "pipeline": "full",
            "questions": len(chosen),
            "sessions": sessions,
            "model": counting.name if counting else None,
        }
    )
    return report
