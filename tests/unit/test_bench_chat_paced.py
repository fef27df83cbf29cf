"""`bench chat --pace`: the conversation again with questions that do not wait for idle work."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from memoryos_cli.bench.chat_bench import run_chat_bench
from memoryos_cli.cli.bench import chat_table
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm.fake import ScriptedLLM

EMPTY_ANALYSIS = (
    '{"summary": "s", "keywords": [], "profile": [], "user_facts": [], "assistant_facts": []}'
)


def test_paced_turns_are_reported_next_to_normal_ones(tmp_path: Path) -> None:
    llm = ScriptedLLM(default=EMPTY_ANALYSIS)
    report = run_chat_bench(
        "scripted",
        turns=3,
        stored=20,
        queued=12,
        pace=0.0,
        embedder=HashingEmbedder(),
        llm=llm,
        home=tmp_path,
    )
    assert report["queued_pages"] == 12 and len(report["per_turn"]) == 3
    assert report["jobs_left_after_the_turns"] == 0  # normal turns waited for the analysis
    paced = report["paced"]
    assert paced["pace_s"] == 0.0 and len(paced["per_turn"]) == 3
    assert 0 < paced["ttft_p50_s"] <= paced["ttft_p95_s"]
    assert paced["ttft_p95_over_normal_p50"] == paced["ttft_p95_s"] / report["ttft_p50_s"]
    stores = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert stores == ["normal", "paced"]  # each mode on a fresh store of its own
    console = Console(width=160, record=True)
    console.print(chat_table(report))
    shown = console.export_text()
    assert "asked 0 s after each answer" in shown and "TTFT p95 / normal p50" in shown


def test_pace_needs_the_idle_work(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        run_chat_bench(
            "scripted", turns=1, pace=1.0, warm=False, embedder=HashingEmbedder(), home=tmp_path
        )
    with pytest.raises(InvalidInputError):
        run_chat_bench("scripted", turns=1, stored=2, queued=3, embedder=HashingEmbedder())


def test_the_judge_is_loaded_before_the_first_question_as_in_the_repl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The REPL loads the relevance judge while its prompt shows: a bench whose first turn
    loads it times a wait no chat has."""
    events: list[str] = []

    class Judge:
        name = "recording-judge"

        def warm(self) -> None:
            events.append("warm")

        def score(self, query: str, passages: list[str]) -> list[float]:
            events.append("score")
            return [0.0] * len(passages)

    monkeypatch.setattr("memoryos_cli.api.reranker_for", lambda settings: Judge())
    run_chat_bench(
        "scripted",
        turns=2,
        stored=20,
        embedder=HashingEmbedder(),
        llm=ScriptedLLM(default=EMPTY_ANALYSIS),
        home=tmp_path,
    )
    assert "score" in events  # the turns did ask the judge
    assert events.index("warm") < events.index("score")
