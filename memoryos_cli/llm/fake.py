"""A scripted LLM for unit tests of logic: replies come from a queue, calls are recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from memoryos_cli.llm import GenerationStats, Message, approx_tokens

Reply = str | Callable[[list[Message]], str]


class ScriptedLLM:
    """Returns queued replies in order (then `default`); records every call it gets."""

    def __init__(
        self, replies: Iterable[Reply] = (), default: Reply = "OK.", context_size: int = 4096
    ) -> None:
        self.name = "scripted"
        self.context_size = context_size
        self.replies: list[Reply] = list(replies)
        self.default = default
        self.calls: list[dict[str, Any]] = []
        self.last_stats = GenerationStats()
        self._cancel = threading.Event()

    def _next(self, messages: list[Message]) -> str:
        reply = self.replies.pop(0) if self.replies else self.default
        return reply(messages) if callable(reply) else reply

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
        repeat_penalty: float = 1.0,
    ) -> str:
        self.calls.append(
            {
                "kind": "complete",
                "messages": messages,
                "json_schema": json_schema,
                "repeat_penalty": repeat_penalty,
            }
        )
        return self._next(messages)

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.7,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        self.calls.append(
            {
                "kind": "stream",
                "messages": messages,
                "temperature": temperature,
                "avoid": list(avoid),
            }
        )
        self._cancel.clear()
        words = self._next(messages).split(" ")
        for i, word in enumerate(words):
            if self._cancel.is_set():
                return
            yield word if i == 0 else " " + word

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def warm(self, messages: list[Message]) -> None:
        self.calls.append({"kind": "warm", "messages": messages})

    def cancel(self) -> None:
        self._cancel.set()
