"""A message's separate asks: which messages recall ranks ask by ask, and how a page's
ranks among them make one score."""

from __future__ import annotations

import pytest

from memoryos_cli.memory.asks import asks, sentences
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
    relevance, lift = judge_pages_per_ask(JUDGE, [COOK, ALLERGY], PAGES)
    # Read against the first ask only, the allergy is the worst page (-11, no lift); read
    # against its own ask, it is that ask's best page.
    assert lift[3] == RERANK_WEIGHT == lift[1]
    assert lift[2] < RERANK_WEIGHT
    assert relevance == {1: 2.0, 2: 0.0, 3: -8.8}  # each page's best score
    one_text = judge_pages_per_ask(JUDGE, [COOK], PAGES)
    assert one_text[1][3] == 0.0 and one_text[0][3] == -11.0


def test_a_fact_is_judged_by_the_ask_it_answers() -> None:
    fact = RecallItem("k1", "knowledge", "Alice is allergic to shellfish.", 0.1, 0.5, 0.0)
    other = RecallItem("k2", "knowledge", "Alice visited the museum.", 0.1, 0.5, 0.0)
    judged = judge_facts(JUDGE, [COOK, ALLERGY], [other, fact])
    assert [(f.ref, f.relevance) for f in judged] == [("k2", 0.0), ("k1", -8.8)]
