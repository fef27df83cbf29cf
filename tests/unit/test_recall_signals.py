"""Page-ranking signals beyond keywords: phrases, neighbours, sessions, dates in a query.

Each case is small and hand-made: the right page is known, keyword search alone ranks a
wrong page above it, the right page is out of short-term (which is always returned),
and each test also runs recall with its signal off to show that the signal is what
puts the right page first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.memory import retrieve
from memoryos_cli.memory.dates import DateCue, date_cues
from memoryos_cli.memory.retrieve import Signals
from memoryos_cli.store import Store

DAY = 86_400.0
T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC).timestamp()
FILLER = [
    (f"Small talk number {i} about the weather", f"Cloudy skies again, day {i}.") for i in range(8)
]


def store_sessions(mem: Memoryos, sessions: list[tuple[float, list[tuple[str, str]]]]) -> list:
    """Write each session's exchanges a minute apart from its start; then 8 filler
    exchanges a month later, so every page above has left short-term."""
    ids = []
    for start, exchanges in sessions:
        for i, (user, agent) in enumerate(exchanges):
            ids.append(mem.add_memory(user, agent, timestamp=start + 60 * i))
    for i, (user, agent) in enumerate(FILLER):
        mem.add_memory(user, agent, timestamp=T0 + 40 * DAY + 60 * i)
    short = {p.id for p in mem.short_term()}
    assert not short & set(ids)
    return ids


# Each case turns on only the signal it is about, so it shows what that one signal does;
# NONE is BM25 + cosine fusion alone.
NONE = Signals(phrases=False, neighbours=False, sessions=False, dates=False, segments=False)


def ranked(mem: Memoryos, query: str, signals: Signals) -> list[int]:
    qvec = mem.embedder.embed([query])[0]
    recall = retrieve.recall(mem.scope, query, qvec, pages_k=5, touch=False, signals=signals)
    return [i.page.id for i in recall.mid_term if i.page is not None]


def keyword_only(mem: Memoryos, query: str) -> list[int]:
    with mem.store.lock:
        return retrieve.bm25(mem.store.conn, "pages_fts", mem.scope.owner_id, query, 10)


def test_two_query_words_in_a_row_lift_the_page_that_has_them_so(mem: Memoryos) -> None:
    target, distractor, _ = store_sessions(
        mem,
        [
            (T0, [("On Friday I took a dance class downtown", "Fun!")]),
            (
                T0 + 3 * DAY,
                [("The class party had dance music, dance games and a dance contest", "Wow.")],
            ),
            (T0 + 6 * DAY, [("My yoga class was cancelled, so I read in the park", "Oh.")]),
        ],
    )
    query = "When did I take a dance class?"
    assert keyword_only(mem, query)[0] == distractor  # more of each word, apart
    assert ranked(mem, query, replace(NONE, phrases=True))[0] == target
    assert ranked(mem, query, NONE)[0] == distractor
    # With every other signal on, the phrase is still what decides: the user's recall
    # (default signals) puts the target first, and the same recall without phrases does not.
    assert ranked(mem, query, Signals(phrases=False))[0] == distractor
    recalled = mem.search(query).mid_term
    assert [i.page.id for i in recalled if i.page][0] == target


def test_the_answer_after_a_matching_question_is_lifted_by_its_neighbour(mem: Memoryos) -> None:
    distractor, question, answer = store_sessions(
        mem,
        [
            (T0, [("Parking at the jazz concert hall costs a fortune", "Take the tram.")]),
            (
                T0 + 3 * DAY,
                [
                    ("Maya went to the jazz concert with me", "How was the jazz concert?"),
                    ("Wonderful: the saxophone solo made me cry", "That sounds moving."),
                ],
            ),
        ],
    )
    query = "How was the jazz concert with Maya?"
    assert keyword_only(mem, query)[:2] == [question, distractor]  # no query word in answer
    with_neighbours = ranked(mem, query, replace(NONE, neighbours=True))
    assert with_neighbours[:2] == [question, answer] and distractor in with_neighbours[2:]
    without = ranked(mem, query, NONE)
    assert without.index(distractor) < without.index(answer)


def test_a_session_matching_the_whole_question_lifts_its_pages(mem: Memoryos) -> None:
    opener, _, target, other = store_sessions(
        mem,
        [
            (
                T0,
                [
                    ("Tom's birthday dinner is tonight, friends are coming", "Happy birthday Tom!"),
                    ("We cleaned the flat all morning", "A fresh start."),
                    ("I cooked lasagna and a lemon cake", "Delicious."),
                ],
            ),
            (T0 + 5 * DAY, [("I cook for my neighbour", "How kind.")]),
        ],
    )
    query = "What did I cook for Tom's birthday dinner?"
    lexical = keyword_only(mem, query)
    assert lexical.index(other) < lexical.index(target)
    with_sessions = ranked(mem, query, replace(NONE, sessions=True))
    assert with_sessions.index(target) < with_sessions.index(other)
    assert with_sessions[0] == opener
    without = ranked(mem, query, NONE)
    assert without.index(other) < without.index(target)


def test_a_date_named_in_the_query_lifts_pages_from_that_day(mem: Memoryos) -> None:
    march, may = (
        dt.datetime(2024, 3, 3, 12, tzinfo=dt.UTC).timestamp(),
        dt.datetime(2024, 5, 10, 12, tzinfo=dt.UTC).timestamp(),
    )
    pasta, sushi = store_sessions(
        mem,
        [
            (march - 30 * DAY, [("Pasta for lunch", "Yum!")]),
            (march, [("Sushi for lunch at the harbour", "Yum!")]),
        ],
    )
    mem.add_memory("Soup at my desk for lunch, then meetings all day", "Busy!", timestamp=may)
    query = "What was for lunch on 3 March 2024?"
    assert keyword_only(mem, query)[0] == pasta
    assert ranked(mem, query, replace(NONE, dates=True))[0] == sushi
    assert ranked(mem, query, NONE)[0] == pasta


def test_date_cues_read_dates_months_and_years_but_not_names() -> None:
    assert date_cues("What did Melanie show on October 13, 2023?") == [DateCue(2023, 10, 13)]
    assert date_cues("found on 1 February, 2023") == [DateCue(2023, 2, 1)]
    assert date_cues("camping in June?") == [DateCue(None, 6, None)]
    assert date_cues("a project in July 2023") == [DateCue(2023, 7, None)]
    assert date_cues("the beach in 2023") == [DateCue(2023, None, None)]
    assert date_cues("on Jan's birthday, may I ask") == []
    june_30_2021 = dt.datetime(2021, 6, 30, tzinfo=dt.UTC).timestamp()
    june_2_2023 = dt.datetime(2023, 6, 2, tzinfo=dt.UTC).timestamp()
    assert DateCue(None, 6, None).matches(june_30_2021, dt.UTC)
    assert not DateCue(2023, 6, 1).matches(june_2_2023, dt.UTC)


def test_sessions_split_at_a_long_pause_and_forget_rebuilds_their_text(mem: Memoryos) -> None:
    first = [mem.add_memory(f"morning {i}", "ok", timestamp=T0 + 600 * i) for i in range(3)]
    later = mem.add_memory("evening walk", "nice", timestamp=T0 + 600 * 2 + 3600)
    conn = mem.store.conn
    sessions = dict(conn.execute("SELECT id, session_id FROM pages").fetchall())
    assert len({sessions[p] for p in first}) == 1 and sessions[later] != sessions[first[0]]
    mem.forget(f"p{first[1]}")
    text = conn.execute("SELECT text FROM sessions WHERE id = ?", (sessions[first[0]],)).fetchone()
    assert text[0] == "morning 0\nok\nmorning 2\nok"
    match = "SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?"
    assert conn.execute(match, ('"1"',)).fetchall() == []


def test_m003_puts_existing_pages_into_sessions(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memoryos_cli import store as store_module
    from memoryos_cli.store.migrations import MIGRATIONS

    path = home / "old.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:2])
    old = Store(path)
    owner = old.owner_id("u", "a")
    with old.transaction() as conn:
        for i, ts in enumerate([T0, T0 + 60, T0 + DAY]):
            conn.execute(
                "INSERT INTO pages(owner_id, user_input, agent_response, ts, created_at)"
                " VALUES (?, ?, 'reply', ?, 0)",
                (owner, f"page {i}", ts),
            )
    old.close()
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    new = Store(path)
    try:
        rows = new.query("SELECT session_id FROM pages ORDER BY id")
        assert rows[0][0] == rows[1][0] != rows[2][0]
        got = new.query("SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH 'reply'")
        assert len(got) == 2
    finally:
        new.close()
