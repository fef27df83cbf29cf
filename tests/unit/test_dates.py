"""Relative times are pinned to the day they were said, in what a model reads only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory.dates import pin_relative_dates

MONDAY = dt.datetime(2023, 5, 8, 13, 56, tzinfo=dt.UTC).timestamp()  # Mon 8 May 2023


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("I went yesterday.", "I went yesterday (7 May 2023)."),
        ("Tomorrow we fly.", "Tomorrow (9 May 2023) we fly."),
        ("3 days ago", "3 days ago (5 May 2023)"),
        ("two weeks ago", "two weeks ago (2 weeks before 8 May 2023)"),
        ("a year ago", "a year ago (1 year before 8 May 2023)"),
        ("last week I spoke", "last week (the week before 8 May 2023) I spoke"),
        ("last weekend we hiked", "last weekend (the weekend before 8 May 2023) we hiked"),
        ("last Friday", "last Friday (5 May 2023)"),
        ("last Monday", "last Monday (1 May 2023)"),  # said on a Monday: a week back
        ("next Monday", "next Monday (15 May 2023)"),
        ("last month", "last month (April 2023)"),
        ("next year", "next year (2024)"),
        ("on Friday, in May, I may go", "on Friday, in May, I may go"),  # ambiguous: as said
    ],
)
def test_relative_times_read_with_their_date(said: str, read: str) -> None:
    assert pin_relative_dates(said, MONDAY, dt.UTC) == read


def test_a_time_already_pinned_is_not_pinned_again() -> None:
    # A fact written from a pinned page, shown under a later day: one date, the right one.
    fact = "Caroline went to a support group yesterday (7 May 2023)."
    assert pin_relative_dates(fact, MONDAY + 50 * 86400, dt.UTC) == fact


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    january = dt.datetime(2024, 1, 3, tzinfo=dt.UTC).timestamp()
    assert pin_relative_dates("last month", january, dt.UTC) == "last month (December 2023)"


def test_a_recalled_page_reads_with_its_dates_and_is_stored_as_said(home: Path) -> None:
    with Memoryos(
        "ines", "assistant", home, llm_model=ScriptedLLM(), embedder=HashingEmbedder()
    ) as mem:
        page = mem.add_memory("I went to the pottery class yesterday.", "Lovely!", MONDAY)
        built = mem.prepare("When did I go to the pottery class?", recent=False)
        assert [i.ref for i in built.recalled] == [f"p{page}"]
        assert "[Mon 8 May 2023] " in built.messages[-1]["content"]
        assert "yesterday (7 May 2023)" in built.messages[-1]["content"]
        assert mem.pages([page])[0].user_input == "I went to the pottery class yesterday."


def test_the_analysis_reads_the_dates_and_keeps_the_fact_it_dates(home: Path) -> None:
    llm = ScriptedLLM(
        default=json.dumps(
            {"user_facts": ["1: Ines went to a pottery class on 7 May 2023."], "profile": []}
        )
    )
    with Memoryos("ines", "assistant", home, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.add_memory("I went to the pottery class yesterday.", "Lovely!", MONDAY)
        mem.end_session()
        mem.consolidate()
        analysis = [c for c in llm.calls if c["kind"] == "complete"][0]["messages"][-1]["content"]
        assert "yesterday (7 May 2023)" in analysis
        assert [f.text for f in mem.knowledge("user")] == [
            "Ines went to a pottery class on 7 May 2023."
        ]


def test_the_pages_benchmark_shows_pages_as_the_chat_does() -> None:
    from memoryos_cli.bench.locomo_bench import memory_block
    from memoryos_cli.memory.records import Page

    page = Page(
        1, "Caroline: I went yesterday.", "Melanie: Nice!", MONDAY, "mid", None, {}, [], False
    )
    assert (
        memory_block([page])
        == "[08 May 2023]\nCaroline: I went yesterday (7 May 2023).\nMelanie: Nice!"
    )
