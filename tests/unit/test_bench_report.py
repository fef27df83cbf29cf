"""The LoCoMo report: recall per conversation, its table, and the recall@k plot."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from memoryos_cli.bench.locomo_bench import Run, Score, summarize
from memoryos_cli.bench.plots import recall_plot
from memoryos_cli.cli.bench import conversation_table


def report() -> dict:
    run = Run("retrieval", 10, pages=4, questions=3)
    run.scores["bm25"] += [
        Score(4, {5: 1.0, 10: 1.0, 20: 1.0}, conversation="conv-a"),
        Score(4, {5: 0.0, 10: 0.5, 20: 1.0}, conversation="conv-b"),
        Score(1, {5: 0.0, 10: 0.0, 20: 0.5}, conversation="conv-b"),
    ]
    return summarize(run)


def test_recall_is_reported_per_conversation_and_overall() -> None:
    bm25 = report()["methods"]["bm25"]
    assert bm25["by_conversation"]["conv-a"]["recall@10"] == 1.0
    assert bm25["by_conversation"]["conv-b"]["recall@10"] == 0.25
    assert bm25["recall@10"] == 0.5
    console = Console(width=120, record=True)
    console.print(conversation_table(report()))
    text = console.export_text()
    assert "conv-b" in text and "0.250" in text and "all" in text


def test_recall_plot_is_a_png(tmp_path: Path) -> None:
    out = recall_plot(report(), tmp_path / "recall.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
