"""A message's separate asks: which messages recall ranks ask by ask, and how a page's
ranks among them make one score."""

from __future__ import annotations

import datetime as dt

import pytest

from memoryos_cli.memory.asks import asks, asks_no_question, sentences
from memoryos_cli.memory.records import Page, RecallItem
from memoryos_cli.memory.retrieve import (
    RERANK_WEIGHT,
    at_best_rank,
    judge_facts,
    judge_pages_per_ask,
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "What should I cook for Lena? Remember my allergy.",
            ["What should I cook for Lena?", "Remember my allergy."],
        ),
        (
            "I fly to Lisbon next week with Anna. Any tips? I do not eat meat.",
            # "Any tips?" names one thing: ranked alone it would lift pages by chance
            ["I fly to Lisbon next week with Anna.", "I do not eat meat."],
        ),
        ("What is my dog called?", []),  # one sentence: one text
        ("Would Caroline likely have Dr. Seuss books on her bookshelf?", []),  # "Dr." goes on
        ("Hi! I just moved to Porto for a new job.", []),  # a greeting is not an ask
        ("I met Anna. What did she say?", []),  # the second needs the first: one text
        ("Thanks, talk tomorrow.", []),
        # a paste or a story is one text, however many sentences say something
        (
            "I moved to Porto. Sam works nights. Miso chews shoes. Lena visits soon. Help me plan.",
            [],
        ),
    ],
)
def test_which_messages_are_read_ask_by_ask(message: str, expected: list[str]) -> None:
    assert asks(message) == expected


def test_sentences_keep_abbreviations_and_decimals() -> None:
    assert sentences("Ask Dr. Lee about it. Mr. Smith knows. It costs 3.50 now.") == [
        "Ask Dr. Lee about it.",
        "Mr. Smith knows.",
        "It costs 3.50 now.",
    ]


def test_an_asks_best_page_ties_with_the_messages_best_page() -> None:
    whole = {1: 4.0, 2: 3.0, 3: 0.5}
    side_ask = {3: 2.0, 4: 1.0}  # page 3 answers the side ask; its own scale is lower
    merged = at_best_rank(whole, [side_ask])
    assert merged[3] == 4.0  # scaled to the message's best: it ties with page 1
    assert merged[4] == 2.0
    assert merged[1] == 4.0 and merged[2] == 3.0  # a page keeps its better standing
    assert at_best_rank(whole, []) == whole
    assert at_best_rank(whole, [{5: 0.0}]) == whole  # an ask that found nothing adds nothing


class TableJudge:
    """A judge that scores by a table: (ask, words in the passage) -> logit."""

    name = "table"

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table

    def score(self, query: str, passages: list[str]) -> list[float]:
        return [
            max((v for (q, w), v in self.table.items() if q == query and w in p), default=-11.0)
            for p in passages
        ]


COOK, ALLERGY = "What should I cook for Lena?", "Remember my allergy."
JUDGE = TableJudge({(COOK, "sourdough"): 2.0, (COOK, "museum"): 0.0, (ALLERGY, "shellfish"): -8.8})
PAGES = {
    1: Page(1, "I baked sourdough with Lena.", "Nice!", 0.0, "mid", None),
    2: Page(2, "I went to the museum with Lena.", "Fun!", 0.0, "mid", None),
    3: Page(3, "I'm allergic to shellfish.", "Noted.", 0.0, "mid", None),
}


def test_the_page_that_answers_an_ask_gets_the_full_lift() -> None:
    relevance, lift, by_ask = judge_pages_per_ask(JUDGE, [COOK, ALLERGY], PAGES)
    # Read against the first ask only, the allergy is the worst page (-11, no lift); read
    # against its own ask, it is that ask's best page.
    assert lift[3] == RERANK_WEIGHT == lift[1]
    assert lift[2] < RERANK_WEIGHT
    assert relevance == {1: 2.0, 2: 0.0, 3: -8.8}  # each page's best score
    assert by_ask == {1: (2.0, -11.0), 2: (0.0, -11.0), 3: (-11.0, -8.8)}
    one_text = judge_pages_per_ask(JUDGE, [COOK], PAGES)
    assert one_text[1][3] == 0.0 and one_text[0][3] == -11.0


def test_a_fact_is_judged_by_the_ask_it_answers() -> None:
    fact = RecallItem("k1", "knowledge", "Alice is allergic to shellfish.", 0.1, 0.5, 0.0)
    other = RecallItem("k2", "knowledge", "Alice visited the museum.", 0.1, 0.5, 0.0)
    judged = judge_facts(JUDGE, [COOK, ALLERGY], [other, fact])
    assert [(f.ref, f.relevance) for f in judged] == [("k2", 0.0), ("k1", -8.8)]
    assert [f.ask_relevance for f in judged] == [(0.0, -11.0), (-11.0, -8.8)]
    assert judge_facts(JUDGE, [COOK], [fact])[0].ask_relevance == ()  # one text: no asks


ASKED = "What should I cook for Lena this weekend? Remember my allergy."


def item(ref: str, text: str, score: float, by_ask: tuple[float, float]) -> RecallItem:
    """A recalled page (`p..`, its text the user's turn) or fact (`k..`), judged per ask."""
    page = Page(int(ref[1:]), text, "Noted.", 0.0, "mid", None) if ref[0] == "p" else None
    return RecallItem(
        ref, "mid" if page else "knowledge", text, score, 0.5, 0.0,
        page=page, relevance=max(by_ask), ask_relevance=by_ask,
    )  # fmt: skip


SOURDOUGH = item("p1", "Lena loves the sourdough from the bakery.", 3.0, (2.0, -11.0))
ALLERGIC = item("p5", "I'm allergic to shellfish, keep that in mind.", 1.0, (-11.0, -2.6))
COOKING = item("k8", "Lena wants to cook for her partner this weekend.", 0.1, (6.3, -11.0))
# An earlier asking of the same message, with the model's answer, among the recent turns.
ECHO = item("p10", "What should I cook for Lena? Remember my allergy.", 0.5, (5.0, 8.0))


def recalled(recent: list[RecallItem]) -> list[str]:
    from memoryos_cli.llm import approx_tokens
    from memoryos_cli.memory.context import Budget, build
    from memoryos_cli.memory.records import Recall

    recall = Recall(ASKED, recent, [SOURDOUGH, ALLERGIC], [COOKING], [])
    built = build(
        ASKED, recall, [i.page for i in recent if i.page], assistant="a",
        budget=Budget(4096, 100, 300), count_tokens=approx_tokens, zone=dt.UTC,
    )  # fmt: skip
    return [i.ref for i in built.recalled]


def test_each_ask_gets_its_best_item_first() -> None:
    # Ranked as one list, the fact about cooking for Lena takes the room of the pages
    # (the allergy page is far under the best page's score); each ask's best comes first.
    assert recalled([]) == ["k8", "p5"]
    # The earlier asking is no answer to "Remember my allergy.", however the judge scores it.
    assert recalled([ECHO]) == ["k8", "p5"]


def test_an_ask_answered_by_the_recent_turns_takes_no_room() -> None:
    told = item("p9", "I'm allergic to shellfish, no prawns please.", 0.5, (-11.0, -1.0))
    assert recalled([told]) == ["k8"]  # the fact, as ranked; the allergy is in the turns


def test_a_fact_in_the_third_person_is_judged_against_the_message_in_the_third_person() -> None:
    # the table judge, like the real one, matches the person: only "the user's allergy"
    judge = TableJudge({("Remember the user's allergy.", "allergic"): -0.6})
    fact = RecallItem("k1", "knowledge", "The user is allergic to shellfish.", 0.1, 0.5, 0.0)
    assert judge_facts(judge, [ALLERGY], [fact])[0].relevance == -11.0
    assert judge_facts(judge, [ALLERGY], [fact], ["the user"])[0].relevance == -0.6
    said = RecallItem("k2", "knowledge", "I take the allergic pills.", 0.1, 0.5, 0.0)
    judge = TableJudge({(ALLERGY, "allergic"): 1.0, ("Remember the user's allergy.", "pills"): -5})
    # a fact in the first person (`remember`) keeps its score against the message as said
    assert judge_facts(judge, [ALLERGY], [said], ["the user"])[0].relevance == 1.0


def test_an_ask_with_no_fact_on_its_topic_gets_no_fact_first() -> None:
    from memoryos_cli.memory.context import each_asks_best

    off = item("k9", "The user's favourite author is Ursula K. Le Guin.", 1.0, (-11.0, -9.0))
    assert [i.ref for i in each_asks_best(ASKED, [SOURDOUGH, off], [])] == ["p1"]
    # a page the judge reads badly is still the ask's best page: the allergy, at -8.8
    page = item("p5", "I'm allergic to shellfish, keep that in mind.", 1.0, (-11.0, -8.8))
    assert [i.ref for i in each_asks_best(ASKED, [SOURDOUGH, off, page], [])] == ["p1", "p5"]


def test_an_ask_of_when_gets_no_fact_that_names_no_time_first() -> None:
    from memoryos_cli.memory.context import each_asks_best

    message = "When did Lena move to York this year? Remember my allergy."
    moved = item("k3", "Lena moved to York with her partner.", 1.0, (6.0, -11.0))
    told = item("p7", "Lena moved to York two weeks ago.", 1.0, (3.0, -11.0))
    allergic = item("p5", "I'm allergic to shellfish, keep that in mind.", 1.0, (-11.0, -2.6))
    # the fact scores higher, but answers "when" with the day it was learned
    assert [i.ref for i in each_asks_best(message, [moved, told, allergic], [])] == ["p7", "p5"]
    dated = item("k4", "Lena moved to York two weeks ago (20 March 2026).", 1.0, (6.5, -11.0))
    assert [i.ref for i in each_asks_best(message, [moved, dated, told, allergic], [])] == [
        "k4",
        "p5",
    ]


@pytest.mark.parametrize(
    ("message", "no_question"),
    [
        ("I'm vegetarian.", True),
        ("Fig is sick, the vet says it's nothing serious.", True),
        ("Tell me a joke.", True),  # the turn says "if": a request is still answered
        ("I work nights. Can you help me plan my week?", False),
        ("Any dinner ideas?", False),
    ],
)
def test_a_message_that_asks_no_question(message: str, no_question: bool) -> None:
    assert asks_no_question(message) is no_question
