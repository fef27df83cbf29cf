"""The full-pipeline bench: sessions played through add_memory, consolidated at each
session's end as the chat does, every method answered through the chat's prompt builder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from memoryos_cli.bench.pipeline import run_pipeline
from memoryos_cli.config import load_settings
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm import Message
from memoryos_cli.llm.fake import ScriptedLLM


def turn(speaker: str, dia_id: str, text: str) -> dict[str, str]:
    return {"speaker": speaker, "dia_id": dia_id, "text": text}


SAMPLE = {
    "sample_id": "mini",
    "conversation": {
        "speaker_a": "Ines",
        "speaker_b": "Tom",
        "session_1_date_time": "3:00 pm on 4 March, 2023",
        "session_1": [
            turn("Ines", "D1:1", "My brother Leo moved to Lisbon for a bakery job."),
            turn("Tom", "D1:2", "Great, Lisbon has wonderful pastries."),
        ],
        "session_2_date_time": "11:00 am on 9 April, 2023",
        "session_2": [
            turn("Ines", "D2:1", "I ran my first half marathon yesterday."),
            turn("Tom", "D2:2", "Congratulations!"),
        ],
        "session_3_date_time": "11:00 am on 9 May, 2023",
        "session_3": [turn("Ines", "D3:1", "Never played, never asked."), turn("Tom", "D3:2", "-")],
    },
    "qa": [
        {
            "question": "Where does Leo work?",
            "answer": "a bakery in Lisbon",
            "evidence": ["D1:1"],
            "category": 4,
        },
        {
            "question": "When did Ines run a half marathon?",
            "answer": "8 April 2023",
            "evidence": ["D2:1"],
            "category": 2,
        },
        {
            "question": "What did Ines play?",
            "answer": "nothing",
            "evidence": ["D3:1"],
            "category": 4,
        },
    ],
    "observation": {
        "session_1_observation": {
            "Ines": [["Ines's brother Leo works at a bakery in Lisbon.", "D1:1"]]
        },
        "session_2_observation": {"Ines": [["Ines ran a half marathon on 8 April 2023.", "D2:1"]]},
        "session_3_observation": {"Ines": [["Ines never played.", "D3:1"]]},
    },
}

FACTS = {
    "bakery": "Ines's brother Leo works at a bakery in Lisbon.",
    "marathon": "Ines ran a half marathon on 8 April 2023.",
}


def model(messages: list[Message]) -> str:
    """Analyses state the session's fact; answers echo the first recalled memory line."""
    text = messages[-1]["content"]
    if "Conversation excerpts" in text:
        page = re.findall(r"\[page (\d+) \|", text)[0]
        facts = [f"{page}: {fact}" for key, fact in FACTS.items() if key in text.lower()]
        return json.dumps({"user_facts": facts, "assistant_facts": [], "profile": []})
    if "Lisbon" in text and "Leo" in messages[-1]["content"].split("\n")[-1]:
        return "a bakery in Lisbon"
    if "8 April 2023" in text:
        return "8 April 2023"
    return "I do not know"


def test_pipeline_plays_consolidates_and_answers_through_the_chat_prompt(tmp_path: Path) -> None:
    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]), encoding="utf-8")
    llm = ScriptedLLM(default=model)
    report = run_pipeline(data, sessions=2, llm=llm, embedder=HashingEmbedder())

    assert report["questions"] == 2  # the session-3 question is outside the sessions played
    c = report["consolidation"]
    assert c["exchanges"] == 2 and c["llm_calls"] == 2  # one analysis per session end
    assert report["facts"]["facts"] == 2
    assert report["facts"]["fact_recall"] == 1.0 and report["facts"]["fact_precision"] == 1.0
    full, none = report["methods"]["memoryos_full"], report["methods"]["no_memory"]
    assert full["f1"] == 1.0 and none["f1"] == 0.0
    assert full["recalled_items_by_tier"].get("knowledge", 0) >= 1
    assert none["recalled_tokens_per_answer"] == 0
    # The memory shown held the answer's words; with none, nothing was shown to hold them.
    assert full["answer_words_recalled"] == 1.0 and none["answer_words_recalled"] == 0.0
    # Each method against pages only, question by question.
    against = report["against_pages"]
    assert set(against) == {"no_memory", "memoryos_full", "hybrid"}
    pages = report["methods"]["memoryos_pages"]["f1"]
    assert against["memoryos_full"]["f1_difference"] == pytest.approx(full["f1"] - pages)
    assert against["no_memory"]["f1_difference"] == pytest.approx(-pages)
    assert against["memoryos_full"]["questions"] == 2
    # Page recall on the played store, for each ranking, over the questions of its sessions.
    recall = report["page_recall"]
    assert set(recall) == {"bm25", "hybrid", "memoryos"}
    assert all(r["questions"] == 2 for r in recall.values())
    assert recall["memoryos"]["recall@5"] == 1.0
    # Every answer went through the chat's system prompt with the short-answer hint.
    answers = [c for c in llm.calls if c["kind"] == "stream"]
    assert len(answers) == 2 * 4
    assert all("a few words" in c["messages"][0]["content"] for c in answers)
    assert {c["temperature"] for c in answers} == {0.0}  # the chat's: greedy by default


def test_the_pipeline_answers_at_the_chats_temperature(tmp_path: Path) -> None:
    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]), encoding="utf-8")
    llm = ScriptedLLM(default=model)
    settings = load_settings(tmp_path / "home", answer_temperature=0.4)
    run_pipeline(data, sessions=2, llm=llm, embedder=HashingEmbedder(), settings=settings)
    assert {c["temperature"] for c in llm.calls if c["kind"] == "stream"} == {0.4}


def test_each_rules_drops_are_graded_like_the_stored_facts(tmp_path: Path) -> None:
    """The session-2 analysis writes its fact only as a chat line, and so does its second
    look at the page left unheard: the chat-line rule drops it twice, and the report says
    that rule cost the observation it alone stated."""

    def chatty(messages: list[Message]) -> str:
        text = messages[-1]["content"]
        if "Conversation excerpts" in text and "marathon" in text.lower():
            page = re.findall(r"\[page (\d+) \|", text)[0]
            line = f"{page}: Ines: I ran a half marathon on 8 April 2023, you know."
            return json.dumps({"user_facts": [line], "assistant_facts": [], "profile": []})
        return model(messages)

    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]), encoding="utf-8")
    report = run_pipeline(
        data, sessions=2, llm=ScriptedLLM(default=chatty), embedder=HashingEmbedder()
    )
    assert report["facts"]["fact_recall"] == 0.5
    assert report["facts"]["rules"] == {
        "chat_line": {"dropped": 2, "dropped_facts": 2, "only_stated": 1, "supported": 2}
    }


def test_a_kept_store_is_reused_without_consolidating_again(tmp_path: Path) -> None:
    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]), encoding="utf-8")
    keep = tmp_path / "kept"
    first = run_pipeline(
        data, sessions=2, llm=ScriptedLLM(default=model), embedder=HashingEmbedder(), keep=keep
    )
    again = ScriptedLLM(default=model)
    second = run_pipeline(data, sessions=2, llm=again, embedder=HashingEmbedder(), keep=keep)

    assert not [c for c in again.calls if c["kind"] != "stream"]  # no analysis this time
    assert second["consolidation"] == first["consolidation"]  # the recorded cost is reported
    assert second["facts"] == first["facts"] and second["facts"]["facts"] == 2
    assert [a["answer"] for a in second["answers"]] == [a["answer"] for a in first["answers"]]
    other = ScriptedLLM(default=model)
    other.name = "another-model"
    with pytest.raises(InvalidInputError, match="another-model"):  # other memories: refused
        run_pipeline(data, sessions=2, llm=other, embedder=HashingEmbedder(), keep=keep)


def test_the_report_carries_the_graded_fact_pairs_and_every_answer(tmp_path: Path) -> None:
    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]), encoding="utf-8")
    report = run_pipeline(
        data, sessions=2, llm=ScriptedLLM(default=model), embedder=HashingEmbedder()
    )

    recall = report["fact_pairs"]["recall"]
    assert {p["observation"] for p in recall} == set(FACTS.values())
    assert all(p["stated"] for p in recall)
    support = report["fact_pairs"]["support"]
    assert sorted(p["fact"] for p in support) == sorted(FACTS.values())
    assert all(p["cited"] for p in support)
    full = [a for a in report["answers"] if a["method"] == "memoryos_full"]
    assert {(a["question"], a["gold"], a["answer"]) for a in full} == {
        ("Where does Leo work?", "a bakery in Lisbon", "a bakery in Lisbon"),
        ("When did Ines run a half marathon?", "8 April 2023", "8 April 2023"),
    }


def test_the_flat_baseline_shows_its_top_pages_as_the_budget_allows(tmp_path: Path) -> None:
    """Made-up scores by rank let the prompt's relative-score cut keep one or two pages of
    the hybrid baseline: it must fill the same budget as the other methods."""
    from memoryos_cli.api import Memoryos
    from memoryos_cli.bench.pipeline import SHORT_ANSWER, recall_for

    with Memoryos(
        "bench", "mini", tmp_path, llm_model=ScriptedLLM(), embedder=HashingEmbedder()
    ) as mem:
        for i in range(12):
            mem.add_memory(f"My bakery sells {i} kinds of bread.", "Nice!")
        question = "What does my bakery sell?"
        recall = recall_for("hybrid", mem, question, 10)
        built = mem.prepare(question, style_hint=SHORT_ANSWER, recall=recall, recent=False)
        assert len(recall.mid_term) == 10
        assert len(built.recalled) == 10  # ~17 tokens each: all fit the 200-token budget


def test_bench_cli_full_pipeline_uses_the_home_and_its_configured_model(
    tmp_path: Path, smol_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--home` picks the configuration the chat model is loaded with (its file, threads,
    context), as every other command; the bench used the default home's."""
    from typer.testing import CliRunner

    from memoryos_cli.bench import pipeline
    from memoryos_cli.cli.app import app
    from memoryos_cli.config import load_settings, write_config_value

    home = tmp_path / "elsewhere"
    write_config_value(load_settings(home), "model", str(smol_model_path))
    write_config_value(load_settings(home), "context_tokens", "2048")
    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]))
    seen: dict[str, object] = {}

    def fake_run(data: Path, **kwargs: object) -> dict[str, object]:
        seen.update(kwargs)
        raise InvalidInputError("stop here")

    monkeypatch.setattr(pipeline, "run_pipeline", fake_run)
    args = ["--home", str(home), "bench", "locomo", "--data", str(data), "--mode", "qa"]
    result = CliRunner().invoke(app, [*args, "--pipeline", "full"])
    assert "stop here" in str(result.exception)
    assert seen["model"] == str(smol_model_path)
    settings = seen["settings"]
    assert settings.home == home and settings.context_tokens == 2048  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--mode", "qa", "--pipeline", "ful"], "'ful' is not one of 'pages', 'full'"),
        (["--mode", "answers"], "'answers' is not one of 'retrieval', 'qa'"),
        (["--pipeline", "full"], "--pipeline full answers questions: add --mode qa"),
    ],
)
def test_bench_cli_refuses_an_unknown_pipeline_or_mode(
    tmp_path: Path, flags: list[str], says: str
) -> None:
    from typer.testing import CliRunner

    from memoryos_cli.cli.app import app

    data = tmp_path / "mini.json"
    data.write_text(json.dumps([SAMPLE]))
    result = CliRunner().invoke(app, ["bench", "locomo", "--data", str(data), *flags])
    assert result.exit_code != 0
    assert says in " ".join((result.output + str(result.exception)).replace("│", " ").split())
