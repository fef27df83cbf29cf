"""LLM protocol: chat messages in, text (or a stream of text) out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]


@dataclass
class GenerationStats:
    """What the last call cost: filled by backends that can measure it."""

    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    seconds_to_first_token: float = 0.0
    seconds_total: float = 0.0
    words_taken_back: int = 0  # begun, then unsaid: they were heading for a banned word


@runtime_checkable
class LLM(Protocol):
    name: str
    context_size: int  # tokens the model attends to: the prompt and the answer together

    @property
    def last_stats(self) -> GenerationStats:
        """What the last call cost (read-only: a wrapper may pass on its model's)."""
        ...

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
        repeat_penalty: float = 1.0,
    ) -> str: ...

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """The reply piece by piece. It never writes a word of `avoid` (lowercase words),
        in lowercase, capitalized or capitals, or its plural; a backend that cannot ban
        words may ignore `avoid`."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def warm(self, messages: list[Message]) -> None:
        """Evaluate a prompt prefix ahead of time and keep it for the next prompt that starts
        with it, also across other calls (llama.cpp KV cache); may be a no-op."""
        ...

    def cancel(self) -> None:
        """Stop the running `stream`/`complete`/`warm` soon, a prompt's evaluation included
        (llama.cpp: within milliseconds), safe from any thread."""
        ...


def approx_tokens(text: str) -> int:
    """A cheap token estimate for budgets when no tokenizer is loaded (~4 chars a token)."""
    return max(1, (len(text) + 3) // 4)
