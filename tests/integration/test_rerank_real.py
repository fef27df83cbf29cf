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

QUESTION = "What did my sister give me for my birthday?"
ANSWER = "My sister surprised me on my birthday with a vintage film camera!"
TALK = [
    "My sister's birthday is next week and I have no idea what to get her.",
    ANSWER,
    "What do people usually give for a fortieth birthday?",  # two distractors, more words
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


def test_only_the_judge_puts_the_answer_first(mem: Memoryos) -> None:
    assert mem.reranker is not None
    judged = mem.retrieve(QUESTION, k=5, touch=False)  # the chat's own path
    assert ANSWER not in [i.page.user_input for i in judged.short_term if i.page]
    assert order(judged)[0] == ANSWER
    answer = next(i for i in judged.mid_term if i.page and i.page.user_input == ANSWER)
    assert answer.relevance is not None and answer.relevance > 0
    # The same ranking with the judge off: a page sharing more words wins.
    unjudged = retrieve.recall(
        mem.scope,
        QUESTION,
        mem.embedder.embed_query([QUESTION])[0],
        pages_k=5,
        touch=False,
        signals=replace(retrieve.Signals(), rerank=False),
    )
    assert order(unjudged)[0] in (TALK[0], TALK[2]) and ANSWER in order(unjudged)[:3]


def test_facts_are_judged_on_the_pages_scale(mem: Memoryos) -> None:
    mem.remember("Alice's sister gave her a vintage film camera for her birthday.")
    mem.remember("Alice is allergic to peanuts.")
    recall = mem.retrieve(QUESTION, k=5, touch=False)
    facts = {f.text: f.relevance for f in recall.knowledge}
    camera = facts["Alice's sister gave her a vintage film camera for her birthday."]
    assert camera is not None and camera > 0
    assert all(v is None or v < camera for t, v in facts.items() if "peanuts" in t)
