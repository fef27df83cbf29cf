"""memoryos's own answers are marked as the model's when the chat stores them, and the
consolidation never takes their words for the user's (real SQLite, scripted model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import pages

ASKED = "What should I cook for Lena this weekend? Remember my allergy."
WRONG = "Since Lena is allergic to shellfish, try grilled shrimp or oysters instead."
# What Qwen 1.5B wrote of such a page in a real chat: the model's mistake, as the user's.
ANALYSIS = json.dumps(
    {
        "user_facts": ["1: Lena is allergic to shellfish."],
        "assistant_facts": ["1: The assistant suggested grilled shrimp or oysters for Lena."],
        "profile": [],
    }
)


def facts_after(home: Path, *, answered_by_model: bool) -> tuple[list[str], frozenset[int]]:
    """The facts one analysis of ASKED / WRONG leaves, the answer the chat model's own
    (through `stream_response`) or a person's (stored through `add_memory`)."""
    llm = ScriptedLLM([WRONG, ANALYSIS] if answered_by_model else [ANALYSIS])
    with Memoryos(data_storage_path=home, llm_model=llm, embedder=HashingEmbedder()) as mem:
        if answered_by_model:
            assert mem.get_response(ASKED) == WRONG
        else:
            mem.add_memory(ASKED, WRONG)
        mem.end_session()
        assert mem.consolidate() == 1
        with mem.store.lock:
            marked = pages.answered_by_model(mem.store.conn, [1])
        return [f.text for f in mem.knowledge("user") + mem.knowledge("assistant")], marked


def test_the_chat_models_own_words_never_become_the_users(tmp_path: Path) -> None:
    facts, marked = facts_after(tmp_path / "chat", answered_by_model=True)
    assert marked == {1}
    assert facts == []


def test_a_persons_answer_is_weighed_as_before(tmp_path: Path) -> None:
    facts, marked = facts_after(tmp_path / "import", answered_by_model=False)
    assert marked == frozenset()
    assert facts == [
        "Lena is allergic to shellfish.",
        "The assistant suggested grilled shrimp or oysters for Lena.",
    ]


@pytest.mark.parametrize("meta", [None, {"source": "terminal"}, {"answered_by": "someone"}])
def test_the_mark_is_the_models_name_whatever_meta_data_the_caller_gave(
    tmp_path: Path, meta: dict[str, str] | None
) -> None:
    with Memoryos(
        data_storage_path=tmp_path, llm_model=ScriptedLLM(["Hi."]), embedder=HashingEmbedder()
    ) as mem:
        mem.get_response("Hello", user_conversation_meta_data=meta)
        (page,) = mem.pages()
    assert page.meta == {**(meta or {}), "answered_by": mem.settings.model}


@pytest.mark.parametrize(
    ("asked", "meta", "query", "again"),
    [
        (ASKED, {"answered_by": "qwen"}, ASKED, True),
        (ASKED, {"answered_by": "qwen"}, "What should I cook for Lena?", True),  # fewer words
        (ASKED, {}, ASKED, False),  # a person's answer is evidence
        (ASKED, {"answered_by": "qwen"}, "What did you suggest I cook for Lena?", False),
        ("Thanks!", {"answered_by": "qwen"}, "?", False),  # no content words: no echo
        # a question of no content words is asked again in the same words
        ("Do you know who I am?", {"answered_by": "qwen"}, "do you know who I am", True),
        ("Do you know who I am?", {"answered_by": "qwen"}, "Who am I?", False),
    ],
)
def test_an_earlier_asking_the_model_answered(
    asked: str, meta: dict[str, str], query: str, again: bool
) -> None:
    from memoryos_cli.memory.context import asked_again
    from memoryos_cli.memory.records import Page

    page = Page(1, asked, WRONG, 0.0, "mid", None, meta)
    assert asked_again(page, query) is again
    assert asked_again(None, query) is False


@pytest.mark.parametrize("temperature", [None, 0.7])
def test_the_chat_answers_at_its_configured_temperature(
    tmp_path: Path, temperature: float | None
) -> None:
    llm = ScriptedLLM(["Hi."])
    with Memoryos(
        data_storage_path=tmp_path,
        llm_model=llm,
        embedder=HashingEmbedder(),
        answer_temperature=temperature,
    ) as mem:
        mem.get_response("Hello")
    (call,) = [c for c in llm.calls if c["kind"] == "stream"]
    assert call["temperature"] == (0.0 if temperature is None else temperature)
