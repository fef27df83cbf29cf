"""Bench pieces on hand-computed cases: metrics, LoCoMo page construction, the runners
(hashing embedder, scripted LLM) and their errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from memoryos_cli.bench import metrics
from memoryos_cli.bench.locomo import (
    Question,
    build_exchanges,
    load_locomo,
    normalize_evidence,
    parse_session_time,
    select_questions,
)
from memoryos_cli.bench.locomo_bench import run_locomo
from memoryos_cli.bench.methods import merged_pages
from memoryos_cli.bench.perf import run_perf
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory.records import Recall, RecallItem


def tiny_locomo() -> list[dict[str, Any]]:
    """A hand-made LoCoMo-shaped conversation (not from the dataset)."""
    return [
        {
            "sample_id": "tiny-1",
            "conversation": {
                "speaker_a": "Ana",
                "speaker_b": "Bo",
                "session_1_date_time": "1:56 pm on 8 May, 2023",
                "session_1": [
                    {"speaker": "Ana", "dia_id": "D1:1", "text": "Hi Bo!"},
                    {"speaker": "Ana", "dia_id": "D1:2", "text": "I adopted a cat named Pixel."},
                    {
                        "speaker": "Bo",
                        "dia_id": "D1:3",
                        "text": "Lovely! Look at my kayak.",
                        "blip_caption": "a photo of a red kayak on a lake",
                    },
                    {"speaker": "Ana", "dia_id": "D1:4", "text": "I start a pottery class soon."},
                ],
                "session_2_date_time": "10:00 am on 2 June, 2023",
                "session_2": [
                    {"speaker": "Bo", "dia_id": "D2:1", "text": "I ran the Oslo marathon."},
                    {"speaker": "Ana", "dia_id": "D2:2", "text": "Pixel broke my pottery vase."},
                    {"speaker": "Bo", "dia_id": "D2:3", "text": "Oh no, poor vase."},
                    {"speaker": "Bo", "dia_id": "D2:4", "text": "Cats will be cats."},
                ],
                "session_3_date_time": "9:00 am on 3 June, 2023",
            },
            "qa": [
                {
                    "question": "What is the name of Ana's cat?",
                    "answer": "Pixel",
                    "evidence": ["D1:2"],
                    "category": 4,
                },
                {
                    "question": "When did Bo run the Oslo marathon?",
                    "answer": "June 2023",
                    "evidence": ["D2:1"],
                    "category": 2,
                },
                {
                    "question": "What did Ana's cat break?",
                    "answer": "a pottery vase",
                    "evidence": ["D1:2; D2:2"],
                    "category": 1,
                },
                {
                    "question": "What hobby might Ana enjoy?",
                    "answer": "crafts",
                    "evidence": [],
                    "category": 3,
                },
                {
                    "question": "What did Bo's cat break?",
                    "evidence": ["D2:2"],
                    "category": 5,
                    "adversarial_answer": "a vase",
                },
            ],
        }
    ]


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_locomo.json"
    path.write_text(json.dumps(tiny_locomo()), encoding="utf-8")
    return path


# -- metrics -------------------------------------------------------------------------------


def test_f1_is_set_based_over_lowercase_word_tokens() -> None:
    # pred {the, red, kayak}, ref {a, red, kayak}: P = R = 2/3
    assert metrics.f1_score("The red, red kayak!", "a red kayak") == pytest.approx(2 / 3)
    assert metrics.f1_score("Pixel", "pixel") == 1.0
    assert metrics.f1_score("dog", "cat") == 0.0
    assert metrics.f1_score("", "cat") == 0.0
    assert metrics.f1_score(2022, 2022) == 1.0
    # pred {in, june, 2023} vs ref {june, 2023}: P 2/3, R 1 -> F1 0.8
    assert metrics.f1_score("in June 2023", "June 2023") == pytest.approx(0.8)


def test_bleu1_clips_counts_and_penalizes_brevity() -> None:
    # 3 predicted tokens, "red" clipped to 1: precision 2/3, longer than ref: no penalty
    assert metrics.bleu1("red red kayak", "a red kayak") == pytest.approx(2 / 3 * 1.0)
    # 1 token vs 3 reference tokens: precision 1, BP = exp(1 - 3/1)
    assert metrics.bleu1("kayak", "a red kayak") == pytest.approx(math.exp(-2))
    assert metrics.bleu1("a red kayak", "a red kayak") == 1.0
    assert metrics.bleu1("", "a") == 0.0


def test_evidence_recall_at_k_counts_turns_in_the_top_k_pages() -> None:
    recalled = [["D1:1", "D1:2"], ["D3:1"], ["D2:2"]]
    assert metrics.evidence_recall(["D1:2", "D2:2"], recalled, 1) == 0.5
    assert metrics.evidence_recall(["D1:2", "D2:2"], recalled, 2) == 0.5
    assert metrics.evidence_recall(["D1:2", "D2:2"], recalled, 3) == 1.0
    assert metrics.evidence_recall(["D9:9"], recalled, 3) == 0.0


def test_percentile_interpolates() -> None:
    assert metrics.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert metrics.percentile([], 50) == 0.0


# -- LoCoMo pages --------------------------------------------------------------------------


def test_pages_follow_turns_session_by_session() -> None:
    ex = build_exchanges(tiny_locomo()[0]["conversation"])
    assert [(e.user_input, e.agent_response) for e in ex] == [
        (
            "Ana: Hi Bo!\nAna: I adopted a cat named Pixel.",
            "Bo: Lovely! Look at my kayak. [shares a photo of a red kayak on a lake]",
        ),
        ("Ana: I start a pottery class soon.", ""),
        ("", "Bo: I ran the Oslo marathon."),
        ("Ana: Pixel broke my pottery vase.", "Bo: Oh no, poor vase.\nBo: Cats will be cats."),
    ]
    assert [e.dia_ids for e in ex] == [
        ["D1:1", "D1:2", "D1:3"],
        ["D1:4"],
        ["D2:1"],
        ["D2:2", "D2:3", "D2:4"],
    ]
    assert [e.session for e in ex] == [1, 1, 2, 2]
    assert ex[0].when.isoformat() == "2023-05-08T13:56:00+00:00"
    assert ex[3].meta == {"dia_ids": ["D2:2", "D2:3", "D2:4"], "session": 2}


def test_sessions_are_read_in_numeric_order() -> None:
    conv = {"speaker_a": "A", "speaker_b": "B"}
    for n in (10, 2, 1):
        conv[f"session_{n}_date_time"] = f"9:00 am on {n} May, 2023"
        conv[f"session_{n}"] = [{"speaker": "A", "dia_id": f"D{n}:1", "text": str(n)}]
    assert [e.session for e in build_exchanges(conv)] == [1, 2, 10]


def test_evidence_and_times_are_normalized() -> None:
    assert normalize_evidence(["D8:6; D9:17", "D:11:26", "D1:3"]) == [
        "D8:6",
        "D9:17",
        "D11:26",
        "D1:3",
    ]
    assert parse_session_time("7:05 PM on 21 Jan, 2024").isoformat() == "2024-01-21T19:05:00+00:00"
    with pytest.raises(InvalidInputError):
        parse_session_time("someday")


def test_load_skips_adversarial_questions(locomo_file: Path) -> None:
    (conv,) = load_locomo(locomo_file)
    assert [q.category for q in conv.questions] == [4, 2, 1, 3]
    assert conv.questions[2].evidence == ["D1:2", "D2:2"]


def test_question_subset_is_stratified_and_seeded() -> None:
    qs = [Question(f"q{i}", "", 1 + i % 4, [f"D1:{i}"]) for i in range(40)]
    pick = select_questions(qs, 8, seed=3)
    assert len(pick) == 8
    assert sorted(q.category for q in pick) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert pick == select_questions(qs, 8, seed=3)
    assert select_questions(qs, None, 0) == qs


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no LoCoMo file"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "expected an object"),
        ('[{"conversation": {"speaker_a": "A", "speaker_b": "B"}}]', "no session_N"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "data.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        load_locomo(path)
    result = CliRunner().invoke(app, ["bench", "locomo", "--data", str(path)], obj=Env())
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInputError)


# -- methods and runners -------------------------------------------------------------------


def _item(ref: int, sim: float, tier: str) -> RecallItem:
    return RecallItem(f"p{ref}", tier, "", sim, sim, 0.0)


def test_short_and_mid_term_pages_rank_together_by_fused_score() -> None:
    recall = Recall(
        "q",
        short_term=[_item(9, 0.1, "short"), _item(8, 0.7, "short")],
        mid_term=[_item(1, 0.5, "mid"), _item(2, 0.9, "mid"), _item(3, 0.2, "mid")],
        knowledge=[],
        profile=[],
    )
    assert [i.ref for i in merged_pages(recall)] == ["p2", "p8", "p1", "p3", "p9"]


def test_retrieval_run_scores_every_method(locomo_file: Path) -> None:
    report = run_locomo(locomo_file, k=2, embedder=HashingEmbedder())
    assert report["mode"] == "retrieval"
    assert (report["questions"], report["pages"]) == (4, 4)
    assert set(report["methods"]) == {"recency", "bm25", "dense", "hybrid", "memoryos"}
    bm25 = report["methods"]["bm25"]
    assert bm25["recall@20"] == 1.0  # every page is within 20 of 4 pages
    assert bm25["by_category"]["4"]["recall@2"] == 1.0  # "cat" + "named" find D1:2
    assert bm25["by_category"]["3"]["recall@5"] is None  # no evidence to recall
    assert bm25["f1"] is None and bm25["llm_calls_per_answer"] == 0
    # recency's last 2 pages hold D2:1..D2:4 and D1:4: the marathon and half the vase
    assert report["methods"]["recency"]["recall@2"] == pytest.approx((0 + 1 + 0.5) / 3)


def test_qa_run_asks_once_per_answer_and_scores_f1(locomo_file: Path) -> None:
    llm = ScriptedLLM(default="Pixel")
    report = run_locomo(
        locomo_file,
        mode="qa",
        questions=4,
        embedder=HashingEmbedder(),
        llm=llm,
        methods=["bm25"],
    )
    assert set(report["methods"]) == {"bm25", "no_memory"}
    bm25 = report["methods"]["bm25"]
    assert bm25["llm_calls_per_answer"] == 1.0
    assert bm25["f1"] == pytest.approx(0.25)  # right only on the cat's name
    assert bm25["by_category"]["4"]["f1"] == 1.0
    assert bm25["recalled_tokens_per_answer"] > 0
    assert report["methods"]["no_memory"]["recalled_tokens_per_answer"] == 0
    assert len(llm.calls) == 8
    asked = llm.calls[0]["messages"][-1]["content"]
    assert "[08 May 2023]" in asked and asked.endswith("Short answer:")


def test_perf_reports_each_size() -> None:
    report = run_perf([30, 120], embedder=HashingEmbedder())
    small, big = report["sizes"]
    assert (small["pages"], big["pages"]) == (30, 120)
    assert small["samples"] == 30 and big["samples"] == 100
    assert big["retrieve_ms_p50"] > 0 and big["db_bytes"] > 0 and big["peak_rss_mb"] > 0
    with pytest.raises(InvalidInputError):
        run_perf([0], embedder=HashingEmbedder())


def test_the_answers_words_found_in_what_was_recalled() -> None:
    recalled = "[Sat 4 March 2023] Ines: My brother Leo moved to Lisbon for a bakery job."
    assert metrics.words_found("a bakery in Lisbon", recalled) == 0.75  # "in" is not there
    assert metrics.words_found("Lisbon, bakery", recalled) == 1.0
    assert metrics.words_found("Porto", recalled) == 0.0
    assert metrics.words_found("", recalled) == 0.0


def test_a_paired_interval_holds_the_mean_and_widens_with_spread() -> None:
    steady = [0.02] * 40
    assert metrics.paired_interval(steady) == pytest.approx((0.02, 0.02))
    # one answer of 40 gained a whole point, the rest unchanged: the mean is +2.5 points,
    # and the interval reaches down to no difference at all
    one = [1.0] + [0.0] * 39
    low, high = metrics.paired_interval(one)
    assert low == 0.0 and 0.025 < high < 0.1
    spread = [0.5, -0.5] * 20
    low, high = metrics.paired_interval(spread)
    assert low < 0.0 < high and high - low > 0.2
    assert metrics.paired_interval(spread) == (low, high)  # seeded: the same each run
    assert metrics.paired_interval([]) == (0.0, 0.0)
