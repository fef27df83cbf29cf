"""The relevance judge (the real ms-marco cross-encoder) on the real default embedder and
SQLite: a question whose answer page shares fewer words with it than a distractor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.bench.methods import merged_pages
from memoryos_cli.memory import retrieve
from memoryos_cli.memory.records import Recall

QUESTION = "Why did I quit my job at the bank?"
ANSWER = "I quit my job at the bank because the commute was two hours each way."
TALK = [
    ANSWER,
    # say the question's words again without answering it: word and meaning lists rank
    # them close to the answer, the judge reads that they do not answer
    "People keep asking why I quit my job at the bank.",
    "Should I quit my job at the bank? I keep wondering why I stay.",
    # Later talk: the three pages above leave short-term (always recalled) for mid-term.
    *(f"We talked about recipe number {i} with lentils and rice." for i in range(10)),
]


def order(recall: Recall) -> list[str]:
    return [i.page.user_input for i in merged_pages(recall) if i.page is not None]


@pytest.fixture
def mem(home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEMORYOS_RERANKER", "ms-marco-minilm-l12")  # the default
    with Memoryos("alice", "assistant", home, llm_model="none") as memory:
        for text in TALK:
            memory.add_memory(text, "I see.")
        yield memory


def test_the_judge_reads_which_page_answers_and_lifts_it(mem: Memoryos) -> None:
    assert mem.reranker is not None
    judged = mem.retrieve(QUESTION, k=5, touch=False)  # the chat's own path
    assert ANSWER not in [i.page.user_input for i in judged.short_term if i.page]
    read = {i.page.user_input: i.relevance for i in judged.mid_term if i.page}
    assert read[ANSWER] is not None and read[ANSWER] > 0
    assert all(v is not None and v < read[ANSWER] for t, v in read.items() if t in TALK[1:3])
    # The same ranking with the judge off ranks a page that only repeats the question
    # above the answer; the judge lifts the answer past it.
    unjudged = mem.retrieve(
        QUESTION, k=5, touch=False, signals=replace(retrieve.Signals(), rerank=False)
    )
    assert order(judged).index(ANSWER) < order(unjudged).index(ANSWER)


def test_facts_are_judged_on_the_pages_scale(mem: Memoryos) -> None:
    mem.remember("Alice left the bank because of a two-hour commute each way.")
    mem.remember("Alice is allergic to peanuts.")
    recall = mem.retrieve(QUESTION, k=5, touch=False)
    facts = {f.text: f.relevance for f in recall.knowledge}
    commute = facts["Alice left the bank because of a two-hour commute each way."]
    peanuts = facts.get("Alice is allergic to peanuts.")
    assert commute is not None and (peanuts is None or peanuts < commute - 5)


def test_a_fact_the_judge_prefers_takes_room_from_the_pages(mem: Memoryos) -> None:
    """Through the chat's own prompt: the fact goes in, and the recalled lines cost no more
    tokens than the pages did without it."""
    pages_alone = mem.prepare(QUESTION, recent=False)
    mem.remember("Alice quit her job at the bank because of the two-hour commute.")
    built = mem.prepare(QUESTION, recent=False)
    assert built.recalled[0].tier == "knowledge"
    assert any(i.page is not None for i in built.recalled)
    assert built.recalled_tokens <= pages_alone.recalled_tokens
