"""A memory indexed with an older embedder says so once: at the start of a chat, in stats."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.embed.load import DEFAULT_EMBEDDER
from memoryos_cli.llm.fake import ScriptedLLM

HINT = (
    "this memory is indexed with old-embedder; `memoryos reindex` moves it to "
    f"{DEFAULT_EMBEDDER} (better recall)"
)


def open_with(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Commands open the memory with a hashing embedder called `name`, as if the file had
    been indexed with it (settings.embedder stays unset: the file decides)."""
    monkeypatch.setenv("COLUMNS", "200")

    def open_memory(self: Env, **kwargs: Any) -> Memoryos:
        embedder = HashingEmbedder(name=name)
        llm = ScriptedLLM(default="Hello!")
        return Memoryos(settings=self.settings(), llm_model=llm, embedder=embedder)

    monkeypatch.setattr(Env, "memoryos", open_memory)


def invoke(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_chat_says_the_hint_once_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    open_with(monkeypatch, "old-embedder")
    out = invoke("chat", input="hi\n/memory short\nhow are you\n")
    assert out.startswith(HINT + "\n")
    assert out.count("memoryos reindex") == 1


def test_chat_on_the_default_embedder_says_nothing_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    open_with(monkeypatch, DEFAULT_EMBEDDER)
    out = invoke("chat", input="hi\n")
    assert "reindex" not in out and out.startswith("memoryos: Hello!")


def test_stats_show_the_embedder_and_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    open_with(monkeypatch, "old-embedder")
    out = invoke("stats")
    assert "│ embedder" in out and "│ old-embedder" in out
    assert out.endswith(HINT + "\n")
    data = json.loads(invoke("stats", "--json"))
    assert data["embedder"] == "old-embedder" and data["reindex_hint"] == HINT


def test_stats_on_the_default_embedder_have_no_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    open_with(monkeypatch, DEFAULT_EMBEDDER)
    assert "reindex" not in invoke("stats")
    assert json.loads(invoke("stats", "--json"))["reindex_hint"] is None
