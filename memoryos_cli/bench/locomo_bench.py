"""`bench locomo`: ingest each LoCoMo conversation into a fresh store, then score every
recall method on the same pages with the same embedder, in the same run."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memoryos_cli.api import NO_MODEL, Memoryos
from memoryos_cli.bench import metrics
from memoryos_cli.bench.locomo import (
    SCORED_CATEGORIES,
    TIMEZONE,
    Conversation,
    Question,
    load_locomo,
    select_questions,
)
from memoryos_cli.bench.methods import ABLATIONS, METHODS
from memoryos_cli.bench.primed import PrimedEmbedder
from memoryos_cli.config import load_settings
from memoryos_cli.embed import Embedder
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named, reranker_for
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm import LLM, Message, approx_tokens
from memoryos_cli.memory.dates import pin_relative_dates
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.memory.records import Page

MODES = ("retrieval", "qa")
RECALL_AT = (5, 10, 20)
NO_MEMORY = "no_memory"
ANSWER_TOKENS = 48
Progress = Callable[[str], None]


@dataclass
class Score:
    """One question answered (or recalled) by one method."""

    category: int
    recall: dict[int, float] | None = None
    conversation: str = ""
    f1: float | None = None
    bleu1: float | None = None
    recalled_tokens: int = 0
    llm_calls: int = 0
    ttft_s: float | None = None
    seconds: float = 0.0


@dataclass
class Run:
    mode: str
    k: int
    pages: int = 0
    questions: int = 0
    scores: dict[str, list[Score]] = field(default_factory=lambda: defaultdict(list))
    seconds: dict[str, float] = field(default_factory=dict)


def memory_block(pages: list[Page]) -> str:
    """Recalled pages as the QA prompt shows them: each with its date, relative times
    pinned to it as the chat's prompt shows them (UTC days, as the dataset's, see TIMEZONE)."""
    lines = []
    for page in pages:
        day = time.strftime("%d %B %Y", time.gmtime(page.ts))
        said = pin_relative_dates(f"{page.user_input}\n{page.agent_response}", page.ts, dt.UTC)
        lines.append(f"[{day}]\n{said}".strip())
    return "\n\n".join(lines)


def qa_messages(conv: Conversation, question: str, block: str) -> list[Message]:
    system = (
        f"You answer questions about a long conversation between {conv.speaker_a} and "
        f"{conv.speaker_b}. Reply with a short answer of a few words, no explanation."
    )
    if block:
        user = f"Memories from the conversation:\n\n{block}\n\nQuestion: {question}\nShort answer:"
    else:
        user = f"Question: {question}\nShort answer:"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def ask(llm: LLM, messages: list[Message]) -> tuple[str, float]:
    """The answer and seconds to its first streamed piece (one LLM call)."""
    start = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    for piece in llm.stream(messages, max_tokens=ANSWER_TOKENS, temperature=0.0):
        if first is None:
            first = time.perf_counter() - start
        parts.append(piece)
    return "".join(parts).strip(), first if first is not None else time.perf_counter() - start


def ingest(mem: Memoryos, conv: Conversation, embedder: PrimedEmbedder) -> dict[int, list[str]]:
    """Store the conversation's pages through the public API; page id -> dia_ids."""
    embedder.prime([page_text(e.user_input, e.agent_response) for e in conv.exchanges])
    dia_ids: dict[int, list[str]] = {}
    for ex in conv.exchanges:
        page_id = mem.add_memory(ex.user_input, ex.agent_response, ex.when, ex.meta)
        dia_ids[page_id] = ex.dia_ids
    return dia_ids


def score_conversation(
    run: Run,
    mem: Memoryos,
    conv: Conversation,
    questions: list[Question],
    dia_ids: dict[int, list[str]],
    embedder: PrimedEmbedder,
    methods: list[str],
    llm: LLM | None,
) -> None:
    depth = max(run.k, *RECALL_AT)
    names = methods + ([NO_MEMORY] if run.mode == "qa" else [])
    for q in questions:
        qvec = embedder.embed_query([q.text])[0]
        for name in names:
            start = time.perf_counter()
            rank = METHODS.get(name) or ABLATIONS.get(name)
            ranked = rank(mem, q.text, qvec, depth) if rank is not None else []
            elapsed = time.perf_counter() - start
            run.seconds[name] = run.seconds.get(name, 0.0) + elapsed
            score = Score(q.category, seconds=elapsed, conversation=conv.sample_id)
            if q.evidence and name != NO_MEMORY:
                recalled = [dia_ids.get(pid, []) for pid in ranked]
                score.recall = {
                    n: metrics.evidence_recall(q.evidence, recalled, n)
                    for n in sorted({*RECALL_AT, run.k})
                }
            by_id = {p.id: p for p in mem.pages(ranked[: run.k])}
            block = memory_block([by_id[i] for i in ranked[: run.k] if i in by_id])
            if run.mode == "qa" and llm is not None:
                answer, score.ttft_s = ask(llm, qa_messages(conv, q.text, block))
                score.llm_calls = 1
                score.f1 = metrics.f1_score(answer, q.answer)
                score.bleu1 = metrics.bleu1(answer, q.answer)
                score.recalled_tokens = llm.count_tokens(block) if block else 0
            else:
                score.recalled_tokens = approx_tokens(block) if block else 0
            run.scores[name].append(score)


def _summary(scores: list[Score], k: int) -> dict[str, Any]:
    with_evidence = [s for s in scores if s.recall is not None]
    answered = [s for s in scores if s.f1 is not None]
    out: dict[str, Any] = {"questions": len(scores)}
    for n in sorted({*RECALL_AT, k}):
        values = [s.recall[n] for s in with_evidence if s.recall is not None]
        out[f"recall@{n}"] = round(metrics.mean(values), 4) if values else None
    out["f1"] = (
        round(metrics.mean(s.f1 for s in answered if s.f1 is not None), 4) if answered else None
    )
    out["bleu1"] = (
        round(metrics.mean(s.bleu1 for s in answered if s.bleu1 is not None), 4)
        if answered
        else None
    )
    return out


def summarize(run: Run) -> dict[str, Any]:
    """The report: {"mode","questions","pages","methods":{NAME:{...,"by_category":{},
    "by_conversation":{}}}}."""
    result: dict[str, Any] = {
        "mode": run.mode,
        "k": run.k,
        "questions": run.questions,
        "pages": run.pages,
        "methods": {},
    }
    for name, scores in run.scores.items():
        entry = _summary(scores, run.k)
        entry["by_category"] = {
            str(c): _summary([s for s in scores if s.category == c], run.k)
            for c in SCORED_CATEGORIES
            if any(s.category == c for s in scores)
        }
        entry["by_conversation"] = {
            name: _summary([s for s in scores if s.conversation == name], run.k)
            for name in dict.fromkeys(s.conversation for s in scores)
        }
        entry["llm_calls_per_answer"] = round(metrics.mean(s.llm_calls for s in scores), 3)
        entry["recalled_tokens_per_answer"] = round(
            metrics.mean(s.recalled_tokens for s in scores), 1
        )
        ttfts = [s.ttft_s for s in scores if s.ttft_s is not None]
        entry["ttft_s_per_answer"] = round(metrics.mean(ttfts), 3) if ttfts else None
        entry["ms_per_query"] = round(1000 * run.seconds.get(name, 0.0) / max(1, len(scores)), 2)
        result["methods"][name] = entry
    return result


def run_locomo(
    data: Path | str,
    *,
    mode: str = "retrieval",
    k: int = 10,
    questions: int | None = None,
    seed: int = 0,
    methods: list[str] | None = None,
    embedder: Embedder | None = None,
    llm: LLM | None = None,
    model: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the LoCoMo benchmark and return its report (see `summarize`)."""
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if k < 1:
        raise InvalidInputError("-k must be at least 1")
    if questions is not None and questions < 1:
        raise InvalidInputError("--questions must be at least 1")
    methods = list(methods or METHODS)
    unknown = [m for m in methods if m not in METHODS and m not in ABLATIONS]
    if unknown:
        raise InvalidInputError(
            f"unknown method(s) {', '.join(unknown)}; known: {', '.join([*METHODS, *ABLATIONS])}"
        )
    say = progress or (lambda _msg: None)
    conversations = load_locomo(data)
    chosen = select_questions([q for c in conversations for q in c.questions], questions, seed)
    if not chosen:
        raise InvalidInputError(f"{data}: no questions of categories 1-4")
    settings = load_settings()
    if embedder is None:
        embedder = embedder_named(settings.embedder or DEFAULT_EMBEDDER, settings)
    reranker = reranker_for(settings)
    primed = PrimedEmbedder(embedder)
    run = Run(mode, k, questions=len(chosen))
    for conv in conversations:
        asked = [q for q in chosen if q.conversation == conv.sample_id]
        with tempfile.TemporaryDirectory(prefix="memoryos-locomo-") as tmp:
            chat_model: str | LLM = NO_MODEL
            if mode == "qa":
                chat_model = llm if llm is not None else (model or "")
            mem = Memoryos(
                "locomo",
                conv.sample_id,
                Path(tmp),
                llm_model=chat_model or None,
                embedder=primed,
                reranker=reranker,
                timezone=TIMEZONE,
            )
            try:
                say(f"{conv.sample_id}: storing {len(conv.exchanges)} pages")
                dia_ids = ingest(mem, conv, primed)
                run.pages += len(dia_ids)
                if mode == "qa" and llm is None:
                    say("loading the chat model")
                    llm = mem.llm
                say(f"{conv.sample_id}: {len(asked)} questions x {len(methods)} methods")
                score_conversation(run, mem, conv, asked, dia_ids, primed, methods, llm)
            finally:
                mem.close()
        primed.forget()
    return summarize(run)
