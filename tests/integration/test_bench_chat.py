"""`memoryos bench chat` end to end with real llama.cpp (SmolLM2) and the real embedder."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryos_cli.bench.chat_bench import run_chat_bench
from memoryos_cli.cli.app import app
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm.fake import ScriptedLLM

pytestmark = pytest.mark.integration


def test_bench_chat_command_reports_every_measure(smol_model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "chat.json"
    result = CliRunner().invoke(
        app,
        [
            "--model",
            str(smol_model_path),
            "bench",
            "chat",
            "--turns",
            "3",
            "--stored",
            "30",
            "--answer-tokens",
            "16",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "TTFT p50 s" in result.output
    report = json.loads(out.read_text())
    assert report["turns"] == 3 and len(report["per_turn"]) == 3
    assert 0 < report["ttft_p50_s"] <= report["ttft_p95_s"]
    assert report["prompt_tokens_per_turn"] > report["prompt_tokens_evaluated_per_turn"] > 0
    assert report["generation_tok_s"] > 0 and report["peak_rss_mb"] > 0


def test_consolidation_calls_are_counted(tmp_path: Path) -> None:
    llm = ScriptedLLM(
        default='{"summary": "s", "keywords": [], "profile": [],'
        ' "user_facts": [], "assistant_facts": []}'
    )
    report = run_chat_bench(
        "scripted", turns=12, stored=0, embedder=HashingEmbedder(), llm=llm, home=tmp_path
    )
    analyses = [c for c in llm.calls if c["kind"] == "complete"]
    assert report["consolidation_llm_calls"] == len(analyses) >= 1
    assert report["consolidation_calls_per_stored_turn"] == len(analyses) / 12
    with pytest.raises(InvalidInputError):
        run_chat_bench("scripted", turns=0, embedder=HashingEmbedder(), llm=llm, home=tmp_path)


def test_the_bench_leaves_no_store_of_its_own_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `home` the bench stores into a temporary folder: gone when it ends."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    llm = ScriptedLLM(default="{}")
    report = run_chat_bench("scripted", turns=2, stored=3, embedder=HashingEmbedder(), llm=llm)
    assert report["turns"] == 2 and len(report["per_turn"]) == 2
    assert list(tmp_path.iterdir()) == []


def test_bench_startup_times_the_prompt(home: Path) -> None:
    out = home.parent / "startup.json"
    result = CliRunner().invoke(app, ["bench", "startup", "--runs", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert len(report["all_s"]) == 2 and report["time_to_prompt_p50_s"] > 0
