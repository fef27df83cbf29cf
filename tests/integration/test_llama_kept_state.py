"""Real llama.cpp (SmolLM2-135M): the chat and its analyses share one context. A cancel
stops a prompt's evaluation inside it; the warmed prefix survives an analysis cut short;
the analysis, asked again, goes on where it stopped and says what it would have said."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memoryos_cli.config import load_settings
from memoryos_cli.llm.llama import LlamaCppLLM

pytestmark = pytest.mark.integration

PREFIX = [
    {
        "role": "system",
        "content": "You are a friendly assistant. Answer in one short sentence. " * 8,
    },
    {"role": "user", "content": "My name is Alice and I live in Paris."},
    {"role": "assistant", "content": "Nice to meet you, Alice!"},
]
QUESTION = PREFIX + [{"role": "user", "content": "Where do I live?"}]
ANALYSIS = [
    {"role": "system", "content": "Read the conversation and list what the user told you."},
    {
        "role": "user",
        "content": " ".join(
            f"Page {i}: I walked my dog Biscuit to the bakery on Rua {i} and bought bread."
            for i in range(32)
        ),
    },
]


@pytest.fixture
def smol(smol_model_path: Path, tmp_path: Path) -> LlamaCppLLM:
    return LlamaCppLLM(smol_model_path, load_settings(tmp_path / "home"))


@pytest.fixture
def cancel_at(smol: LlamaCppLLM) -> Iterator[Callable[[Callable[[list[int]], bool]], None]]:
    """Make `smol.cancel()` come just as llama.cpp starts to evaluate the first batch of
    tokens for which `when(batch)` holds, as from another thread."""
    evaluate = smol._llama.eval
    rule: list[Callable[[list[int]], bool]] = []

    def eval_then_maybe_cancel(tokens: Any) -> None:
        if rule and rule[0](list(tokens)):
            rule.clear()
            smol.cancel()
        evaluate(tokens)

    smol._llama.eval = eval_then_maybe_cancel
    yield rule.append
    smol._llama.eval = evaluate


def test_cancel_stops_a_prompt_evaluation_inside_it(smol: LlamaCppLLM, cancel_at: Any) -> None:
    """Before: the cancel waited for the whole prompt (thousands of tokens, minutes for a
    1.5B model on a loaded machine), and Ctrl-C at exit with it."""
    prompt_tokens = smol.count_tokens(ANALYSIS[1]["content"])
    assert prompt_tokens > 600  # more than a batch of 512
    cancel_at(lambda batch: len(batch) > 1)
    assert smol.complete(ANALYSIS, max_tokens=40, temperature=0.0) == ""
    assert smol.last_stats.prompt_tokens < 512  # what the cache holds: not one whole batch
    assert smol.complete([{"role": "user", "content": "Hi"}], max_tokens=4)  # runs again


def test_the_warmed_prefix_survives_an_interrupted_analysis(
    smol: LlamaCppLLM, cancel_at: Any
) -> None:
    smol.warm(PREFIX)
    # The analysis's prompt has filled the cache past the prefix when the user asks.
    cancel_at(lambda batch: len(batch) == 1)  # its first reply token
    smol.complete(ANALYSIS, max_tokens=40, temperature=0.0)
    "".join(smol.stream(QUESTION, max_tokens=8, temperature=0.0))
    stats = smol.last_stats
    assert stats.prompt_tokens > 100
    assert stats.prompt_tokens_evaluated < 20  # only what follows the prefix


def test_an_interrupted_analysis_goes_on_where_it_stopped(
    smol: LlamaCppLLM, cancel_at: Any
) -> None:
    def analysis() -> str:
        return smol.complete(ANALYSIS, max_tokens=32, temperature=0.0, repeat_penalty=1.1)

    whole = analysis()
    first = smol.last_stats
    assert first.completion_tokens > 12
    smol.warm(PREFIX)  # the chat used the context meanwhile
    replies = iter(range(100))
    cancel_at(lambda batch: len(batch) == 1 and next(replies) == 10)  # 10 tokens into it
    cut = analysis()
    assert 0 < len(cut) < len(whole)
    "".join(smol.stream(QUESTION, max_tokens=8, temperature=0.0))  # the user's answer
    assert analysis() == whole  # the reply so far, continued: not started over
    again = smol.last_stats
    assert again.prompt_tokens_evaluated < 4
    assert again.completion_tokens < first.completion_tokens - 8


def test_a_grammar_constrained_reply_goes_on_too(smol: LlamaCppLLM, cancel_at: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "dog": {"type": "string"},
            "places": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["dog", "places"],
    }

    def analysis() -> str:
        return smol.complete(ANALYSIS, max_tokens=24, temperature=0.0, json_schema=schema)

    analysis()  # llama-cpp-python 0.3.36: the first call after the prompt's evaluation
    whole = analysis()  # may break out of the grammar under a repeat penalty; not the next
    tokens = smol.last_stats.completion_tokens
    replies = iter(range(100))
    cancel_at(lambda batch: len(batch) == 1 and next(replies) == 6)
    analysis()
    smol.warm(PREFIX)
    assert whole.startswith("{") and analysis() == whole
    assert smol.last_stats.completion_tokens < tokens - 4
