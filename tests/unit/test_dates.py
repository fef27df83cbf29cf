"""Relative times are pinned to the day they were said, in what a model reads only.

One table, one row per phrase and day: each formula of `memory/dates.py` has rows that only
it gets right (a "next" beside its "last", a month or year boundary, a leap day), so a
formula copied over another fails a row. "for 3 years" is pinned ("since 2020") only where it
runs up to the day: each reason to leave it as said has a must-not row only it catches.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory.dates import asks_a_time, names_a_time, pin_relative_dates


def noon(year: int, month: int, day: int) -> float:
    return dt.datetime(year, month, day, 12, tzinfo=dt.UTC).timestamp()


MONDAY = dt.datetime(2023, 5, 8, 13, 56, tzinfo=dt.UTC).timestamp()  # Mon 8 May 2023
TUESDAY_2_MAY = noon(2023, 5, 2)
DECEMBER = noon(2023, 12, 15)  # a Friday
NEW_YEARS_EVE = noon(2023, 12, 31)  # a Sunday
JANUARY = noon(2024, 1, 3)
LEAP_MARCH = noon(2024, 3, 1)  # the day after 29 February 2024
FRIDAY_9_JUNE = noon(2023, 6, 9)
JUNE_2022 = noon(2022, 6, 1)
THURSDAY_20_JULY = noon(2023, 7, 20)
FEB_2023 = noon(2023, 2, 4)
SEPTEMBER = noon(2023, 9, 20)
AUGUST = noon(2023, 8, 31)  # the last day of summer

CASES = [
    # the day itself, and one day either side (a month, a year, a leap day away)
    (MONDAY, "I went yesterday.", "I went yesterday (7 May 2023)."),
    (MONDAY, "Tomorrow we fly.", "Tomorrow (9 May 2023) we fly."),
    # not "yesterday (7 May 2023)" inside it: the day before that
    (
        MONDAY,
        "I got it the day before yesterday.",
        "I got it the day before yesterday (6 May 2023).",
    ),
    (MONDAY, "the day after tomorrow", "the day after tomorrow (10 May 2023)"),
    (MONDAY, "Last night we ate out.", "Last night (7 May 2023) we ate out."),
    (NEW_YEARS_EVE + 12.5 * 3600, "last night", "last night (31 December 2023)"),  # 0:30 am
    (MONDAY, "today", "today (8 May 2023)"),
    (MONDAY, "tonight", "tonight (8 May 2023)"),
    (MONDAY, "this morning", "this morning (8 May 2023)"),
    (MONDAY, "this afternoon", "this afternoon (8 May 2023)"),
    (MONDAY, "this evening", "this evening (8 May 2023)"),
    (LEAP_MARCH, "yesterday", "yesterday (29 February 2024)"),
    (NEW_YEARS_EVE, "tomorrow", "tomorrow (1 January 2024)"),
    # "N days ago" is a date, "N months ago" a month, "N years ago" a year (what LoCoMo
    # answers: "2018"); weeks are counted from the day
    (MONDAY, "3 days ago", "3 days ago (5 May 2023)"),
    (MONDAY, "a couple of days ago", "a couple of days ago (6 May 2023)"),
    (LEAP_MARCH, "two days ago", "two days ago (28 February 2024)"),
    (MONDAY, "two weeks ago", "two weeks ago (2 weeks before 8 May 2023)"),
    (MONDAY, "two weekends ago", "two weekends ago (2 weekends before 8 May 2023)"),
    (MONDAY, "a month ago", "a month ago (April 2023)"),
    (MONDAY, "two months ago", "two months ago (March 2023)"),
    (JANUARY, "two months ago", "two months ago (November 2023)"),
    (DECEMBER, "12 months ago", "12 months ago (December 2022)"),
    (MONDAY, "I started five years ago.", "I started five years ago (2018)."),
    (MONDAY, "5 years ago", "5 years ago (2018)"),
    (MONDAY, "a year ago", "a year ago (2022)"),
    (JANUARY, "a year ago", "a year ago (2023)"),
    (MONDAY, "a couple of years ago", "a couple of years ago (2021)"),
    (MONDAY, "a couple years ago", "a couple years ago (2021)"),
    (MONDAY, "about ten years ago", "about ten years ago (2013)"),
    (MONDAY, "sixteen years ago", "sixteen years ago (2007)"),
    (MONDAY, "a decade ago", "a decade ago (2013)"),
    (MONDAY, "a year and a half ago", "a year and a half ago (November 2021)"),
    (MONDAY, "two and a half years ago", "two and a half years ago (November 2020)"),
    (JANUARY, "half a year ago", "half a year ago (July 2023)"),
    # no number: counted from the day at the grain of the unit, never one year
    (MONDAY, "a few days ago", "a few days ago (a few days before 8 May 2023)"),
    (MONDAY, "a few weeks ago", "a few weeks ago (a few weeks before 8 May 2023)"),
    (JANUARY, "a few months ago", "a few months ago (a few months before January 2024)"),
    (MONDAY, "a few years ago", "a few years ago (a few years before 2023)"),
    (MONDAY, "several years ago", "several years ago (several years before 2023)"),
    (MONDAY, "years ago, months ago", "years ago, months ago"),
    (MONDAY, "a while ago, a long time ago", "a while ago, a long time ago"),
    (MONDAY, "a day and a half ago", "a day and a half ago"),
    (MONDAY, "a year and a half ago (November 2021)", "a year and a half ago (November 2021)"),
    # "for N years" up to the day it was said: since the year (LoCoMo: "Since 2016", "2019")
    (JUNE_2022, "I've had them for 3 years.", "I've had them for 3 years (since 2019)."),
    (MONDAY, "Been doing it for 3 years", "Been doing it for 3 years (since 2020)"),
    (
        MONDAY,
        "but we've been together for three years",
        "but we've been together for three years (since 2020)",
    ),
    (MONDAY, "I've had her for two years now.", "I've had her for two years (since 2021) now."),
    (
        MONDAY,
        "I've been playing for a month now",
        "I've been playing for a month (since April 2023) now",
    ),
    (
        JANUARY,
        "I've been learning it for two months",
        "I've been learning it for two months (since November 2023)",
    ),
    (MONDAY, "I haven't seen him for 3 years.", "I haven't seen him for 3 years (since 2020)."),
    (MONDAY, "She has lived here for 10 years.", "She has lived here for 10 years (since 2013)."),
    (MONDAY, "My mom’s had it for twenty years", "My mom’s had it for twenty years (since 2003)"),
    (MONDAY, "It's been raining for 3 days.", "It's been raining for 3 days (since 5 May 2023)."),
    (
        MONDAY,
        "I've been married to him for 5 years",
        "I've been married to him for 5 years (since 2018)",
    ),
    (
        MONDAY,
        "I've been going to the gym for almost 3 years",
        "I've been going to the gym for almost 3 years (since 2020)",
    ),
    (
        MONDAY,
        "I've been engaged to Sam for 2 years",
        "I've been engaged to Sam for 2 years (since 2021)",
    ),
    (
        MONDAY,
        "I've been here for a year and a half",
        "I've been here for a year and a half (since November 2021)",
    ),
    (
        MONDAY,
        "I have been volunteering for the last six months",
        "I have been volunteering for the last six months (since November 2022)",
    ),
    (
        MONDAY,
        "I worked remotely for the past 3 years",
        "I worked remotely for the past 3 years (since 2020)",
    ),
    (MONDAY, "We are together for 3 years now.", "We are together for 3 years (since 2020) now."),
    (MONDAY, "I live here since 3 years.", "I live here since 3 years (since 2020)."),
    (
        MONDAY,
        "I've had it for 3 years, can you believe it?",
        "I've had it for 3 years (since 2020), can you believe it?",
    ),
    # ... and not: a span ahead, one that ended, a question, no number, a date already
    (MONDAY, "I'll stay for 2 years.", "I'll stay for 2 years."),
    (
        MONDAY,
        "I'll have been here for 2 years in June.",
        "I'll have been here for 2 years in June.",
    ),
    (MONDAY, "I'm going to travel for 2 months.", "I'm going to travel for 2 months."),
    (MONDAY, "I have to stay for 2 years.", "I have to stay for 2 years."),
    (MONDAY, "I have a contract for 2 years.", "I have a contract for 2 years."),
    (MONDAY, "I've decided to stay for 2 years.", "I've decided to stay for 2 years."),
    (MONDAY, "I've booked the flat for 2 weeks.", "I've booked the flat for 2 weeks."),
    (MONDAY, "I've been planning a trip for 2 weeks.", "I've been planning a trip for 2 weeks."),
    (MONDAY, "I've been offered a job for 2 years.", "I've been offered a job for 2 years."),
    (
        MONDAY,
        "I've adopted a dog and I'll keep him for 2 years.",
        "I've adopted a dog and I'll keep him for 2 years.",
    ),
    (
        MONDAY,
        "I've heard we'll live there for 2 years.",
        "I've heard we'll live there for 2 years.",
    ),
    (
        MONDAY,
        "I've been planning to move abroad for 2 years.",
        "I've been planning to move abroad for 2 years.",
    ),
    (MONDAY, "I lived there for 3 years.", "I lived there for 3 years."),
    (MONDAY, "I had lived there for 3 years.", "I had lived there for 3 years."),
    (MONDAY, "I'd been living there for 3 years.", "I'd been living there for 3 years."),
    (MONDAY, "I could've stayed for 2 years.", "I could've stayed for 2 years."),
    (MONDAY, "I've been to Paris for 2 weeks.", "I've been to Paris for 2 weeks."),
    (MONDAY, "Have you been doing it for 3 years?", "Have you been doing it for 3 years?"),
    (
        MONDAY,
        "I've been teaching classes for 3 year olds.",
        "I've been teaching classes for 3 year olds.",
    ),
    (
        MONDAY,
        "I've lived here for a few years, for years.",
        "I've lived here for a few years, for years.",
    ),
    (
        MONDAY,
        "I've had it since 2019, since March 2021.",
        "I've had it since 2019, since March 2021.",
    ),
    (MONDAY, "I've been here since two years ago.", "I've been here since two years ago (2021)."),
    (
        MONDAY,
        "I've had it for two years (since 2021) now.",
        "I've had it for two years (since 2021) now.",
    ),
    # weekdays: "last" looks back, "next" ahead, a full week for the day it is said on
    (MONDAY, "last Friday", "last Friday (5 May 2023)"),
    (MONDAY, "next Friday", "next Friday (12 May 2023)"),
    (MONDAY, "last Monday", "last Monday (1 May 2023)"),
    (MONDAY, "next Monday", "next Monday (15 May 2023)"),
    (MONDAY, "last Sunday", "last Sunday (7 May 2023)"),
    (MONDAY, "next Tuesday", "next Tuesday (9 May 2023)"),
    (TUESDAY_2_MAY, "Last Friday we met.", "Last Friday (28 April 2023) we met."),
    (NEW_YEARS_EVE, "next Monday", "next Monday (1 January 2024)"),
    (MONDAY, "last Fri", "last Fri (5 May 2023)"),
    (THURSDAY_20_JULY, "I joined last Tues.", "I joined last Tues (18 July 2023)."),
    (MONDAY, "next Weds", "next Weds (10 May 2023)"),
    (MONDAY, "Enjoying some last sun rays", "Enjoying some last sun rays"),
    (
        MONDAY,
        "the last Friday of May, the next Sunday off",
        "the last Friday of May, the next Sunday off",
    ),
    # weeks and weekends, around the day
    (MONDAY, "last week I spoke", "last week (the week before 8 May 2023) I spoke"),
    (
        FRIDAY_9_JUNE,
        "I gave a talk last week.",
        "I gave a talk last week (the week before 9 June 2023).",
    ),
    (MONDAY, "this week", "this week (the week of 8 May 2023)"),
    (MONDAY, "next week", "next week (the week after 8 May 2023)"),
    (MONDAY, "last weekend we hiked", "last weekend (the weekend before 8 May 2023) we hiked"),
    (MONDAY, "this past weekend", "this past weekend (the weekend before 8 May 2023)"),
    (MONDAY, "this past week", "this past week (the week before 8 May 2023)"),
    (MONDAY, "this weekend", "this weekend (the weekend of 8 May 2023)"),
    (MONDAY, "next weekend", "next weekend (the weekend after 8 May 2023)"),
    # months, across the turn of the year both ways
    (MONDAY, "last month", "last month (April 2023)"),
    (MONDAY, "this month", "this month (May 2023)"),
    (MONDAY, "next month", "next month (June 2023)"),
    (DECEMBER, "next month", "next month (January 2024)"),
    (DECEMBER, "last month", "last month (November 2023)"),
    (JANUARY, "last month", "last month (December 2023)"),
    # months by name, where "the next June" and "June next year" agree (said in May, "next
    # June" may be either: as said)
    (DECEMBER, "married in Porto next June", "married in Porto next June (June 2024)"),
    (MONDAY, "next April and next May", "next April (April 2024) and next May (May 2024)"),
    (MONDAY, "next June", "next June"),
    (MONDAY, "last June", "last June (June 2022)"),
    (FEB_2023, "since last October", "since last October (October 2022)"),
    (DECEMBER, "last March", "last March"),
    (MONDAY, "the next June, last may, next march", "the next June, last may, next march"),
    # years
    (MONDAY, "last year", "last year (2022)"),
    (MONDAY, "this year", "this year (2023)"),
    (MONDAY, "next year", "next year (2024)"),
    (JANUARY, "last year", "last year (2023)"),
    # seasons, at the grain of a year: the last one over by the day, this year's, the next
    # to start (LoCoMo: "last summer" on 4 February 2023 is "summer 2022")
    (FEB_2023, "I was in Bogota last summer.", "I was in Bogota last summer (summer 2022)."),
    (THURSDAY_20_JULY, "last summer we swam", "last summer (summer 2022) we swam"),
    (AUGUST, "since last summer", "since last summer (summer 2022)"),
    (SEPTEMBER, "Last summer was hot", "Last summer (summer 2023) was hot"),
    (DECEMBER, "this past fall", "this past fall (fall 2023)"),
    (FRIDAY_9_JUNE, "this summer", "this summer (summer 2023)"),
    (MONDAY, "next summer", "next summer (summer 2023)"),
    (THURSDAY_20_JULY, "next summer", "next summer (summer 2024)"),
    (MONDAY, "next spring", "next spring (spring 2024)"),
    # winter spans the new year: which one is a guess
    (FEB_2023, "last winter", "last winter"),
    # "the last ..." is a last one of something, not the one before the day
    (FEB_2023, "the last summer of my youth", "the last summer of my youth"),
    (MONDAY, "the last year of college, the next week", "the last year of college, the next week"),
    # ambiguous ("on Friday": past or next? "in May": which year?) or pinned already: as said
    (MONDAY, "on Friday, in May, I may go", "on Friday, in May, I may go"),
    (MONDAY + 50 * 86400, "went yesterday (7 May 2023).", "went yesterday (7 May 2023)."),
    # the writer gave the date beside it, in its own words: no second one
    (MONDAY, "a dentist tomorrow, May 9, 2023.", "a dentist tomorrow, May 9, 2023."),
    (MONDAY, "on 9 May 2023 (tomorrow)", "on 9 May 2023 (tomorrow)"),
    (MONDAY, "moving next month, in June 2023", "moving next month, in June 2023"),
    # a year the writer gave (a stored fact read "for two years (since 2024) since 2024.")
    (MONDAY, "has played for two years since 2021.", "has played for two years since 2021."),
    (MONDAY, "moved 5 years ago, in 2018", "moved 5 years ago, in 2018"),
    (MONDAY, "moved 5 years ago, in 20180", "moved 5 years ago (2018), in 20180"),
    # another date beside it, or one a week counts from, is not the one it means
    (MONDAY, "tomorrow, May 10, 2023", "tomorrow (9 May 2023), May 10, 2023"),
    (MONDAY, "On 8 May 2023: last week", "On 8 May 2023: last week (the week before 8 May 2023)"),
]


@pytest.mark.parametrize(("ts", "said", "read"), CASES)
def test_relative_times_read_with_their_date(ts: float, said: str, read: str) -> None:
    assert pin_relative_dates(said, ts, dt.UTC) == read


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


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("When did Jolene buy her pet Seraphim?", True),
        ("when is my dentist appointment?", True),
        ("How long has Jolene had her snakes?", True),
        ("Which year did John start surfing?", True),
        ("What day is the recital?", True),
        ("Since when do I run on Sundays?", True),
        ("How many years ago did Tim move?", True),
        # "when" inside the question asks for something else
        ("What did Caroline say when she left the group?", False),
        ("What did Gina find for her store on 1 February, 2023?", False),
        ("Did Andrew have a pet dog during March 2023?", False),
        ("What is my sister's name?", False),
    ],
)
def test_a_question_that_asks_a_time(question: str, asks: bool) -> None:
    assert asks_a_time(question) is asks


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Jolene bought Seraphim in 2022.", True),
        ("Ines met Anna yesterday (31 January 2023).", True),
        ("Mara takes the 9 o'clock ferry to Vigo.", True),
        ("The recital is at 18:30.", True),
        ("Tim moved to Leeds three years ago.", True),
        ("Ines goes climbing every Sunday.", True),
        ("Ines visits her gran at the weekend.", True),
        ("Jolene bought Seraphim in Paris.", False),
        ("John practices taekwondo.", False),
        ("Ines has 3 cats and 2 dogs.", False),
    ],
)
def test_a_text_that_names_a_time(text: str, names: bool) -> None:
    assert names_a_time(text) is names
