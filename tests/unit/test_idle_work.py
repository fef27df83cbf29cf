"""`Memoryos.idle_work`, what the chat runs while its user types: the next answer's prefix
first (kept aside by the model), then queued analyses, then the prefix again if one ran."""

from __future__ import annotations

import threading

from memoryos_cli.api import Memoryos
from memoryos_cli.llm import prompts
from memoryos_cli.llm.fake import ScriptedLLM

EMPTY_ANALYSIS = (
    '{"summary": "s", "keywords": [], "profile": [], "user_facts": [], "assistant_facts": []}'
)


def kinds(llm: ScriptedLLM) -> list[str]:
    return [c["kind"] for c in llm.calls]


def test_the_prefix_comes_before_the_analysis_and_again_after_it(
    mem: Memoryos, llm: ScriptedLLM
) -> None:
    llm.default = EMPTY_ANALYSIS
    mem.add_memory("I adopted a dog called Miso.", "Lovely!")
    mem.end_session()  # its analysis queued
    mem.idle_work(threading.Event())
    # the analysis, its second look at the page it left unheard, then the prefix again
    assert kinds(llm) == ["warm", "complete", "complete", "warm"]
    assert mem.pending_jobs() == 0


def test_without_queued_analyses_only_the_prefix(mem: Memoryos, llm: ScriptedLLM) -> None:
    mem.add_memory("I adopted a dog called Miso.", "Lovely!")
    mem.idle_work(threading.Event())
    assert kinds(llm) == ["warm"]
    # the prompt of a message that tells starts with what was warmed, the turn before the
    # message included: bench chat evaluated 16 more tokens a turn without it
    warmed = llm.calls[0]["messages"]
    assert mem.prepare("Miso chewed my shoes today.").messages[:-1] == warmed
    assert warmed[-1] == prompts.REPLY_TO_TELLING


def test_enter_during_the_prefix_leaves_the_analysis_queued(
    mem: Memoryos, llm: ScriptedLLM
) -> None:
    mem.add_memory("I adopted a dog called Miso.", "Lovely!")
    mem.end_session()
    enter = threading.Event()
    llm.warm = lambda messages: enter.set()  # type: ignore[method-assign]
    mem.idle_work(enter)
    assert kinds(llm) == [] and mem.pending_jobs() == 1
