"""A message of two asks, on the real default embedder, the real judge and SQLite: the side
ask ("Remember my allergy.") is recalled from weeks ago, through the chat's own prompt."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.bench.perf import synth_exchange
from memoryos_cli.memory.retrieve import Signals

MESSAGE = "What should I cook for Lena? Remember my allergy."
ALLERGY = "I'm allergic to shellfish, keep that in mind for recipes."
OWN = [
    ("Hi! I just moved to Porto for a new job as a data engineer.", "Congratulations!"),
    ("My partner Sam is a nurse and works night shifts.", "Night shifts are hard."),
    (ALLERGY, "Noted: no shellfish in recipes."),
    ("We adopted a dog called Miso last weekend.", "Miso is a lovely name!"),
]


@pytest.fixture
def mem(home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEMORYOS_RERANKER", "ms-marco-minilm-l12")  # the default
    rng = random.Random(0)
    # The person's own talk first, then weeks of other talk (Lena is in many of those
    # exchanges): the allergy leaves short-term for mid-term and must be recalled.
    talk = [*OWN, *(synth_exchange(rng, i) for i in range(60))]
    start = 1.7e9
    with Memoryos("alice", "assistant", home, llm_model="none") as memory:
        memory.add_memories(
            [
                {"user_input": u, "agent_response": a, "timestamp": start + i * 86400}
                for i, (u, a) in enumerate(talk)
            ]
        )
        yield memory


def recalled(built) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.page.user_input for i in built.recalled if i.page is not None]


def test_the_side_ask_of_a_message_is_recalled(mem: Memoryos) -> None:
    assert ALLERGY not in [i.page.user_input for i in mem.retrieve(MESSAGE).short_term if i.page]
    built = mem.prepare(MESSAGE, recent=False)  # the chat's own recall and prompt
    shown = recalled(built)
    assert ALLERGY in shown
    assert any("Lena" in text for text in shown)  # the first ask is still answered
    # Ranked as one text, the message recalls only its longer ask.
    whole = mem.retrieve(MESSAGE, touch=False, signals=replace(Signals(), asks=False))
    assert ALLERGY not in recalled(mem.prepare(MESSAGE, recall=whole, recent=False))


def test_a_one_sentence_question_is_ranked_as_before(mem: Memoryos) -> None:
    question = "What is my partner's job?"
    on = mem.retrieve(question, touch=False)
    off = mem.retrieve(question, touch=False, signals=replace(Signals(), asks=False))
    assert [(i.ref, i.score, i.relevance) for i in on.mid_term] == [
        (i.ref, i.score, i.relevance) for i in off.mid_term
    ]


def test_a_fact_the_judge_prefers_for_one_ask_leaves_the_other_its_page(mem: Memoryos) -> None:
    """A wrong fact from a real chat (Qwen 1.5B's analysis of the question itself) that the
    judge puts far above every page for the first ask: it took the room the allergy page
    had, until each ask got its best item first."""
    mem.remember("Lena wants to cook for her partner on the weekend.")
    built = mem.prepare(MESSAGE, recent=False)
    assert [i.ref for i in built.recalled if i.page is None], "the fact is shown"
    assert ALLERGY in recalled(built)


def test_earlier_askings_the_model_answered_leave_the_room_to_what_the_user_said(
    mem: Memoryos,
) -> None:
    """A question asked again recalled its own earlier askings first, with the model's long
    (here wrong) answers, and they filled the room of what the user had said."""
    question = "What does my partner Sam do for work?"
    wrong = (
        "Your partner Sam works as a software engineer at a startup in Porto, building data "
        "pipelines; the job keeps Sam busy, so plan your evenings together ahead of time."
    )
    for day in (70, 71):
        mem.add_memory(question, wrong, 1.7e9 + day * 86400, {"answered_by": "qwen"})
    mem.add_memories(  # newer talk: the askings leave the recent turns for mid-term
        [{"user_input": f"Day {d} was fine.", "agent_response": "Good.",
          "timestamp": 1.7e9 + d * 86400} for d in range(72, 82)]
    )  # fmt: skip
    shown = recalled(mem.prepare(question, recent=False))
    assert question not in shown
    assert OWN[1][0] in shown  # "My partner Sam is a nurse and works night shifts."


def test_a_new_users_facts_are_judged_as_said_of_the_user(home: Path) -> None:
    """A new user: every page is among the recent turns, so facts have no page to beat. The
    judge read "Where do I live now?" against "The user moved from Leeds to York..." at
    -10.2 (it reads person), and every fact filled the room, whatever was asked."""
    facts = [
        "The user moved from Leeds to York last month.",
        "The user's favourite author is Ursula K. Le Guin.",
        "The user is allergic to shellfish.",
    ]
    with Memoryos("noor", "assistant", home, llm_model="none") as mem:
        mem.add_memory("Hi! I teach chemistry.", "Nice to meet you!")
        for fact in facts:
            mem.remember(fact)
        shown = [i.text for i in mem.prepare("Where do I live now?").recalled]
        assert shown == [facts[0]]
        shown = [i.text for i in mem.prepare("Any dinner ideas? Remember my allergy.").recalled]
        assert shown == [facts[2]]
