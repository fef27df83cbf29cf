"""`memoryos bench` end to end on the real default embedder and reranker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env

pytestmark = pytest.mark.integration


def turn(speaker: str, dia_id: str, text: str) -> dict[str, str]:
    return {"speaker": speaker, "dia_id": dia_id, "text": text}


# Small talk after the facts: more pages than recall@20 looks at, all newer than every
# evidence page, so recency finds none of the evidence and methods that read must.
SMALL_TALK_PAGES = 24
SMALL_TALK = [
    turn(speaker, f"D3:{2 * i + n + 1}", text)
    for i in range(SMALL_TALK_PAGES)
    for n, (speaker, text) in enumerate(
        [("Ines", f"I sorted box {i} in the attic today."), ("Tom", f"Box {i}, well done.")]
    )
]

# Hand-made, LoCoMo-shaped (not from the dataset).
TINY = [
    {
        "sample_id": "tiny",
        "conversation": {
            "speaker_a": "Ines",
            "speaker_b": "Tom",
            "session_1_date_time": "3:00 pm on 4 March, 2023",
            "session_1": [
                turn("Ines", "D1:1", "My brother Leo moved to Lisbon for a bakery job."),
                turn("Tom", "D1:2", "Great, Lisbon has wonderful pastries."),
                turn("Ines", "D1:3", "I bought a violin and take lessons every Tuesday."),
                turn("Tom", "D1:4", "Music is a lovely hobby."),
            ],
            "session_2_date_time": "11:00 am on 9 April, 2023",
            "session_2": [
                turn("Tom", "D2:1", "I planted tomatoes in my garden last weekend."),
                turn("Ines", "D2:2", "I am training for a half marathon in May."),
                turn("Tom", "D2:3", "Good luck with the running!"),
            ],
            "session_3_date_time": "3:00 pm on 2 June, 2023",
            "session_3": SMALL_TALK,
        },
        "qa": [
            {
                "question": "Where does Leo work?",
                "answer": "a bakery in Lisbon",
                "evidence": ["D1:1"],
                "category": 4,
            },
            {
                "question": "Which instrument does Ines play?",
                "answer": "violin",
                "evidence": ["D1:3"],
                "category": 4,
            },
            {
                "question": "When did Tom plant tomatoes?",
                "answer": "early April 2023",
                "evidence": ["D2:1"],
                "category": 2,
            },
            {
                "question": "What sports event is Ines preparing for?",
                "answer": "half marathon",
                "evidence": ["D2:2"],
                "category": 1,
            },
        ],
    }
]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), obj=Env())
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_bench_locomo_and_perf_on_the_default_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps(TINY), encoding="utf-8")
    out = tmp_path / "locomo.json"
    shown = run("bench", "locomo", "--data", str(data), "-k", "1", "--json", str(out))
    assert f"LoCoMo retrieval: 4 questions, {4 + SMALL_TALK_PAGES} pages" in shown
    report = json.loads(out.read_text())
    methods = report["methods"]
    assert set(methods) == {"recency", "bm25", "dense", "hybrid", "memoryos"}
    for method in methods.values():
        assert set(method["by_category"]) == {"1", "2", "4"}
    # Every evidence page is older than the 20 newest: only methods that read find it.
    assert methods["recency"]["recall@20"] == 0.0
    assert methods["memoryos"]["recall@20"] == methods["dense"]["recall@20"] == 1.0
    assert methods["dense"]["by_category"]["4"]["recall@1"] == 1.0

    perf_out = tmp_path / "perf.json"
    shown = run("bench", "perf", "--pages", "50", "--json", str(perf_out))
    assert "bge-small-en-v1.5" in shown
    (size,) = json.loads(perf_out.read_text())["sizes"]
    assert size["pages"] == 50 and size["samples"] == 50
    assert size["add_memory_ms_p50"] > 0 and size["retrieve_ms_p50"] > 0
