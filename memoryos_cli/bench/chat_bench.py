"""`bench chat`: what a person waits for in `memoryos chat`, with a real model.

A fresh store gets `stored` synthetic exchanges (LLM-free ingest; their consolidation is
marked done, as for a history already digested, but for the last `queued`). Then a
scripted conversation runs the way the REPL runs it: while the "user types", the chat's
idle work (`Memoryos.idle_work`: the stable prompt prefix, then queued consolidation) runs
to its end (`--no-warm` skips it, as a baseline); at Enter the clock starts: recall +
prompt layout (bookkeeping), then the streamed answer.

With `pace`, the same conversation runs again on a fresh store the way a quick user has
it: each question comes `pace` seconds after the last answer, whatever the idle work is
doing (an analysis of ~30-50 s with the 1.5B model, every dozen exchanges), and Enter
stops it as the REPL does. Both are reported side by side.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from memoryos_cli.api import Memoryos
from memoryos_cli.bench.metrics import mean, percentile
from memoryos_cli.bench.perf import peak_rss_mb, synth_exchange
from memoryos_cli.config import load_settings
from memoryos_cli.embed import Embedder
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, embedder_named
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm import LLM

SCRIPT = [
    "Hi! I just moved to Porto for a new job as a data engineer.",
    "My partner Sam is a nurse and works night shifts.",
    "What do you remember about my trips with Anna?",
    "I'm training for a 10k run in March.",
    "We adopted a dog called Miso last weekend.",
    "Can you suggest a name for my new sourdough starter?",
    "Where did I say I moved?",
    "I'm allergic to shellfish, keep that in mind for recipes.",
    "My sister Lena is visiting in two weeks.",
    "What should I cook for Lena? Remember my allergy.",
    "Work is stressful: the launch moved to Friday.",
    "What is my partner's job?",
    "I started learning Portuguese on my commute.",
    "Recommend a podcast for learning Portuguese.",
    "How is my running training going, based on what I told you?",
    "Miso chewed my running shoes today.",
    "What is my dog called?",
    "I finally finished the launch, it went well!",
    "Summarize what you know about me in two sentences.",
    "Thanks, talk tomorrow.",
]


def run_chat_bench(
    model: str,
    *,
    turns: int = 20,
    stored: int = 500,
    answer_tokens: int = 96,
    warm: bool = True,
    pace: float | None = None,
    queued: int = 0,
    embedder: Embedder | None = None,
    llm: LLM | None = None,
    home: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """TTFT, bookkeeping, prompt tokens per turn, tok/s, consolidation calls, peak RSS;
    with `pace`, the TTFT of paced turns too (`report["paced"]`)."""
    if turns < 1 or turns > len(SCRIPT) * 5 or stored < 0 or not 0 <= queued <= stored:
        raise InvalidInputError(
            f"--turns must be 1..{len(SCRIPT) * 5}, --stored >= 0 and --queued 0..--stored"
        )
    if pace is not None and (pace < 0 or not warm):
        raise InvalidInputError("--pace takes seconds >= 0 and the idle work (not --no-warm)")
    say = progress or (lambda _msg: None)
    root = home or Path(tempfile.mkdtemp(prefix="memoryos-chatbench-"))
    settings = load_settings(root, model=model, max_answer_tokens=answer_tokens)
    if embedder is None:
        embedder = embedder_named(settings.embedder or DEFAULT_EMBEDDER, settings)
        embedder.embed(["warm up"])
    try:
        mem = _prefilled(settings, root / "normal", llm, embedder, stored, queued, say)
        say("loading the model")
        t0 = time.perf_counter()
        chat_llm = mem.llm
        load_s = time.perf_counter() - t0
        normal = _converse(mem, turns, warm=warm, pace=None, say=say)
        report: dict[str, Any] = {
            "model": model,
            "turns": turns,
            "stored_pages": stored,
            "queued_pages": queued,
            "warm_prefix": warm,
            "load_s": load_s,
            **normal,
            "peak_rss_mb": peak_rss_mb(),
        }
        if pace is not None:
            mem = _prefilled(settings, root / "paced", chat_llm, embedder, stored, queued, say)
            paced = _converse(mem, turns, warm=True, pace=pace, say=say)
            paced["ttft_p95_over_normal_p50"] = paced["ttft_p95_s"] / normal["ttft_p50_s"]
            report["paced"] = {"pace_s": pace, **paced}
            report["peak_rss_mb"] = peak_rss_mb()
        return report
    finally:
        if home is None:  # a store of the bench's own: gone with it, as TemporaryDirectory
            shutil.rmtree(root, ignore_errors=True)


def _prefilled(
    settings: Any,
    root: Path,
    llm: LLM | None,
    embedder: Embedder,
    stored: int,
    queued: int,
    say: Callable[[str], None],
) -> Memoryos:
    """A fresh store with `stored` synthetic exchanges, all analysed but the last `queued`
    (their analysis queued, as after a session that ended before its consolidation)."""
    mem = Memoryos(settings=replace(settings, home=root), llm_model=llm, embedder=embedder)
    rng = random.Random(0)
    start = time.time() - 86400 * 180
    say(f"storing {stored} exchanges")
    exchanges = []
    for i in range(stored):
        user, agent = synth_exchange(rng, i)
        exchanges.append(
            {"user_input": user, "agent_response": agent, "timestamp": start + i * 3600}
        )
    mem.add_memories(exchanges)
    mem.mark_digested(but_newest=queued, note="bench: prefilled history")
    if queued:
        mem.end_session()  # their analysis queued
    # The REPL loads the embedder and the relevance judge while its prompt shows
    # (`ChatSession.start_loading`); without this the first turn paid the judge's load
    # (~150 ms) before its first token, which no chat does once started.
    mem.warm_text_models()
    return mem


def _converse(
    mem: Memoryos, turns: int, *, warm: bool, pace: float | None, say: Callable[[str], None]
) -> dict[str, Any]:
    """The scripted conversation on `mem` (closed at the end): each turn the idle work runs
    to its end (`pace` None) or is stopped `pace` seconds after the last answer."""
    chat_llm = mem.llm
    calls = {"consolidation": 0}
    complete = chat_llm.complete

    def counted(*args: Any, **kwargs: Any) -> str:
        calls["consolidation"] += 1
        return complete(*args, **kwargs)

    chat_llm.complete = counted  # type: ignore[method-assign]
    rows: list[dict[str, float]] = []
    done_before = mem.stats()["jobs"].get("done", 0)
    try:
        for turn in range(turns):
            query = SCRIPT[turn % len(SCRIPT)]
            idle_start = time.perf_counter()
            busy = False
            if pace is not None:  # the REPL's idle thread, stopped at Enter
                cancel = threading.Event()
                idle = threading.Thread(target=_idle, args=(mem, cancel), daemon=True)
                idle.start()
                time.sleep(pace)
                asked = time.perf_counter()
                busy = idle.is_alive()
                cancel.set()
                while idle.is_alive():  # as ChatSession.stop_idle
                    mem.cancel()
                    idle.join(timeout=0.05)
            elif warm:  # what the REPL does while the user types, to its end
                mem.idle_work(threading.Event())
            idle_s = time.perf_counter() - idle_start
            if pace is None:
                asked = time.perf_counter()
            stream = mem.stream_response(query)
            first = next(stream, "")
            ttft = time.perf_counter() - asked
            pieces = [first, *stream]
            stats = chat_llm.last_stats
            bookkeeping = ttft - stats.seconds_to_first_token
            gen_s = max(1e-9, stats.seconds_total - stats.seconds_to_first_token)
            built = mem.last_prompt
            rows.append(
                {
                    "ttft_s": ttft,
                    "bookkeeping_ms": bookkeeping * 1000,
                    "prompt_tokens": stats.prompt_tokens,
                    "prompt_tokens_evaluated": stats.prompt_tokens_evaluated,
                    "recalled_tokens": built.recalled_tokens if built else 0,
                    "completion_tokens": stats.completion_tokens,
                    "gen_tok_s": max(0, stats.completion_tokens - 1) / gen_s,
                    "idle_s": idle_s,
                    "asked_during_idle_work": float(busy),
                }
            )
            mode = "" if pace is None else f" (asked {pace:g} s after the answer)"
            say(
                f"turn {turn + 1}/{turns}{mode}: TTFT {ttft:.2f} s, evaluated "
                f"{stats.prompt_tokens_evaluated}/{stats.prompt_tokens} prompt tokens, "
                f"{len(''.join(pieces))} chars"
            )
        left = mem.pending_jobs()
        done = mem.stats()["jobs"].get("done", 0) - done_before
        if warm and pace is None:
            mem.consolidate()
    finally:
        chat_llm.complete = complete  # type: ignore[method-assign]
        mem.close()

    def col(name: str) -> list[float]:
        return [r[name] for r in rows]

    return {
        "ttft_p50_s": percentile(col("ttft_s"), 50),
        "ttft_p95_s": percentile(col("ttft_s"), 95),
        "bookkeeping_p50_ms": percentile(col("bookkeeping_ms"), 50),
        "bookkeeping_p95_ms": percentile(col("bookkeeping_ms"), 95),
        "prompt_tokens_per_turn": mean(col("prompt_tokens")),
        "prompt_tokens_evaluated_per_turn": mean(col("prompt_tokens_evaluated")),
        "recalled_tokens_per_turn": mean(col("recalled_tokens")),
        "generation_tok_s": mean(col("gen_tok_s")),
        "idle_work_s_per_turn": mean(col("idle_s")),
        "turns_asked_during_idle_work": int(sum(col("asked_during_idle_work"))),
        "consolidation_llm_calls": calls["consolidation"],
        "consolidation_calls_per_stored_turn": calls["consolidation"] / turns,
        "jobs_done_during_the_turns": done,
        "jobs_left_after_the_turns": left,
        "per_turn": rows,
    }


def _idle(mem: Memoryos, cancel: threading.Event) -> None:
    # As the REPL's idle thread: a failed job stays queued with its error, the chat goes on.
    with contextlib.suppress(Exception):
        mem.idle_work(cancel)
