"""Days are the user's: a message sent at 6 pm on Monday 8 May 2023 in California (01:00
UTC on Tuesday) is shown, dated and found on Monday 8 May, whether California is the
system's zone or the `timezone` setting's."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_support import fast_env, run

from memoryos_cli.api import Memoryos
from memoryos_cli.clock import SystemZone, zone_named
from memoryos_cli.config import load_settings, write_config_value
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.llm import Message
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory.dates import date_cues

CALIFORNIA = "America/Los_Angeles"
SIX_PM_MONDAY = "2023-05-08T18:00"  # a wall time in the user's zone, as add_memory reads it
TUESDAY_1_AM_UTC = dt.datetime(2023, 5, 9, 1, 0, tzinfo=dt.UTC).timestamp()


def system_zone(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("TZ", name)
    time.tzset()


@pytest.fixture(params=["system zone", "timezone setting"])
def in_california(
    request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The user lives in California: the machine says so, or the machine says Tokyo (the
    other side of UTC) and the `timezone` setting in config.toml says California."""
    if request.param == "system zone":
        system_zone(monkeypatch, CALIFORNIA)
    else:
        system_zone(monkeypatch, "Asia/Tokyo")
        write_config_value(load_settings(), "timezone", CALIFORNIA)
    yield
    monkeypatch.undo()
    time.tzset()


def memory(home: Path, llm: ScriptedLLM | None = None) -> Memoryos:
    return Memoryos(
        "alice", "assistant", home, llm_model=llm or ScriptedLLM(), embedder=HashingEmbedder()
    )


def test_a_message_at_6_pm_reads_as_that_day_in_the_prompt_and_the_analysis(
    in_california: None, home: Path
) -> None:
    llm = ScriptedLLM(default=json.dumps({"user_facts": [], "profile": []}))
    with memory(home, llm) as mem:
        page = mem.add_memory("I went to the pottery class yesterday.", "Lovely!", SIX_PM_MONDAY)
        assert mem.pages([page])[0].ts == TUESDAY_1_AM_UTC  # stored as the instant it was
        prompt = mem.prepare("When did I go to the pottery class?", recent=False).messages[-1]
        assert "[Mon 8 May 2023] " in prompt["content"]
        assert "yesterday (7 May 2023)" in prompt["content"]
        mem.end_session()
        mem.consolidate()
    analysis = [c for c in llm.calls if c["kind"] == "complete"][0]["messages"][-1]["content"]
    assert f"[page {page} | Mon 8 May 2023]" in analysis
    assert "yesterday (7 May 2023)" in analysis


def test_a_date_named_in_the_query_finds_the_page_of_the_users_day(
    in_california: None, home: Path
) -> None:
    # 8 pm on Sunday in California is Monday 8 May in UTC: read in UTC, it would be the
    # page of 8 May, and the Monday evening one that of the 9th.
    with memory(home) as mem:
        monday = mem.add_memory("I cooked pasta with Ana.", "Yum!", SIX_PM_MONDAY)
        sunday = mem.add_memory("I cooked pasta with Tom.", "Yum!", "2023-05-07T20:00")
        built = mem.prepare("What did I cook on 8 May 2023?", recent=False)
        assert built.recalled[0].ref == f"p{monday}"
        [cue] = date_cues("What did I cook on 8 May 2023?")
        zone = mem.settings.zone
        assert cue.matches(TUESDAY_1_AM_UTC, zone)
        assert not cue.matches(mem.pages([sunday])[0].ts, zone)


def test_the_journal_the_mcp_server_and_the_cli_show_the_users_time(
    in_california: None, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memoryos_cli.mcp_server import MemoryTools

    with memory(home) as mem:
        added = MemoryTools(mem).add_memory("Dinner with Ana.", "Nice.", SIX_PM_MONDAY)
    assert added["timestamp"] == "2023-05-08T18:00:00-07:00"  # the instant, the user's day
    env = fast_env(monkeypatch)
    assert "2023-05-08 18:00" in run(env, "memory", "short").output
    run(env, "export", "--format", "md", "-o", str(tmp_path / "me.md"))
    journal = (tmp_path / "me.md").read_text()
    assert "\n## 2023-05-08\n\n### 18:00 · p1\n" in journal
    assert re.search(r"exported \d{4}-\d\d-\d\d \d\d:\d\d P[DS]T\. Times are in ", journal)


def test_the_timezone_setting_names_an_iana_zone_or_is_one_clear_error(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = fast_env(monkeypatch)
    result = run(env, "config", "set", "timezone", "Europe/Oslo")
    assert result.output.startswith("timezone = Europe/Oslo (in ")
    assert load_settings().zone == ZoneInfo("Europe/Oslo")
    typo = run(env, "config", "set", "timezone", "Europe/Osl", ok=False)
    assert isinstance(typo.exception, InvalidInputError)
    assert str(typo.exception) == (
        "unknown time zone 'Europe/Osl': use an IANA name such as Europe/Oslo or"
        ' America/Los_Angeles, or "" for the system\'s zone'
    )
    assert load_settings().timezone == "Europe/Oslo"  # the bad value was not written
    monkeypatch.setenv("MEMORYOS_TIMEZONE", "America")  # a folder of zones, not one
    with pytest.raises(InvalidInputError, match="unknown time zone 'America'"):
        load_settings()
    monkeypatch.setenv("MEMORYOS_TIMEZONE", "Asia/Tokyo")
    assert load_settings().zone == ZoneInfo("Asia/Tokyo")  # env over config.toml
    assert load_settings(timezone="UTC").zone is dt.UTC  # a flag over both
    with pytest.raises(InvalidInputError, match="unknown time zone '../etc/passwd'"):
        write_config_value(load_settings(), "timezone", "../etc/passwd")


def test_the_system_zone_follows_summer_time_as_the_zone_database_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system_zone(monkeypatch, CALIFORNIA)
    system, database = zone_named(""), ZoneInfo(CALIFORNIA)
    assert isinstance(system, SystemZone)
    # both changes of 2023, minute by minute: the skipped hour and the repeated one (fold)
    for change in (dt.datetime(2023, 3, 12, 10), dt.datetime(2023, 11, 5, 9)):  # UTC
        start = int(change.replace(tzinfo=dt.UTC).timestamp()) - 3 * 3600
        for ts in range(start, start + 6 * 3600, 60):
            mine = dt.datetime.fromtimestamp(ts, system)
            theirs = dt.datetime.fromtimestamp(ts, database)
            assert mine.isoformat() == theirs.isoformat() and mine.fold == theirs.fold
            assert mine.tzname() == theirs.tzname() and mine.timestamp() == ts


def locomo_sample() -> dict[str, object]:
    """A LoCoMo conversation whose session, 11:30 pm UTC on 8 May, is the 9th in Tokyo."""
    turn = {"speaker": "Ines", "dia_id": "D1:1", "text": "I ran a half marathon yesterday."}
    return {
        "sample_id": "late",
        "conversation": {
            "speaker_a": "Ines",
            "speaker_b": "Tom",
            "session_1_date_time": "11:30 pm on 8 May, 2023",
            "session_1": [turn, {"speaker": "Tom", "dia_id": "D1:2", "text": "Well done!"}],
        },
        "qa": [
            {
                "question": "When did Ines run a half marathon?",
                "answer": "7 May 2023",
                "evidence": ["D1:1"],
                "category": 2,
            }
        ],
    }


def test_the_locomo_pipeline_keeps_the_datasets_days_whatever_the_machines_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memoryos_cli.bench.pipeline import run_pipeline

    system_zone(monkeypatch, "Asia/Tokyo")
    prompts: list[str] = []

    def model(messages: list[Message]) -> str:
        prompts.append(messages[-1]["content"])
        if "Conversation excerpts" in messages[-1]["content"]:
            return json.dumps({"user_facts": [], "profile": []})
        return "7 May 2023"

    data = tmp_path / "late.json"
    data.write_text(json.dumps([locomo_sample()]), encoding="utf-8")
    run_pipeline(data, sessions=1, llm=ScriptedLLM(default=model), embedder=HashingEmbedder())
    analysis = next(p for p in prompts if "Conversation excerpts" in p)
    assert "| Mon 8 May 2023]" in analysis and "yesterday (7 May 2023)" in analysis
    answers = [p for p in prompts if "Conversation excerpts" not in p]
    assert answers and all("Tue 9 May" not in p for p in answers)
    assert any("[Mon 8 May 2023] " in p for p in answers)
