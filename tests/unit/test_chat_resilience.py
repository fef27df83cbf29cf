"""The chat never exits on a model error, and the first answer never waits for
consolidation queued before the session (CliRunner, scripted stdin, fake LLM)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import ModelError
from memoryos_cli.llm import Message
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import jobs


def use_llm(monkeypatch: pytest.MonkeyPatch, llm: ScriptedLLM) -> None:
    def open_memory(self: Env, **kwargs: object) -> Memoryos:
        return Memoryos(settings=self.settings(), llm_model=llm, embedder=HashingEmbedder())

    monkeypatch.setattr(Env, "memoryos", open_memory)


def test_a_model_error_is_one_line_and_the_chat_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_long(messages: list[Message]) -> str:
        raise ValueError("Requested tokens (6876) exceed context window of 4096")

    llm = ScriptedLLM([too_long, "Still here."])
    use_llm(monkeypatch, llm)
    result = CliRunner().invoke(app, ["chat"], input="first question\nsecond question\n")
    assert result.exit_code == 0, result.output
    assert "error: the model could not answer (ValueError: Requested tokens" in result.output
    assert "memoryos: Still here." in result.output


def test_what_the_user_said_is_kept_when_no_answer_came(home: Any) -> None:
    def fails(messages: list[Message]) -> str:
        raise ValueError("the model broke before its first token")

    with Memoryos(
        llm_model=ScriptedLLM([fails, "Porto, then."]), embedder=HashingEmbedder()
    ) as mem:
        with pytest.raises(ValueError, match="first token"):
            mem.get_response("I moved to Lisbon last week. Any tips?")
        stopped = mem.stream_response("Which city is nicer?")
        assert next(stopped) == "Porto,"
        stopped.close()  # Ctrl-C after the first piece
        kept = [(p.user_input, p.agent_response) for p in mem.pages()]
    assert kept == [
        ("I moved to Lisbon last week. Any tips?", ""),
        ("Which city is nicer?", "Porto,"),
    ]


def test_what_the_user_said_is_kept_when_recall_fails(
    home: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recall runs before the first token: a failure there (a locked or damaged file, a
    failing embedder) still stores the question, with no answer."""
    with Memoryos(llm_model=ScriptedLLM(["unused"]), embedder=HashingEmbedder()) as mem:

        def broken_recall(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("recall broke")

        monkeypatch.setattr(mem, "retrieve", broken_recall)
        with pytest.raises(RuntimeError, match="recall broke"):
            mem.get_response("My sister Ana lands in Oslo on Friday.")
        kept = [(p.user_input, p.agent_response) for p in mem.pages()]
    assert kept == [("My sister Ana lands in Oslo on Friday.", "")]


def test_a_failed_embedder_build_closes_the_file(
    home: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a memory whose embedder cannot be built raises, and leaves no open store."""
    from memoryos_cli import api
    from memoryos_cli.store import Store

    opened: list[Store] = []
    closed: list[Store] = []
    real_init, real_close = Store.__init__, Store.close

    def tracking_init(self: Store, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        opened.append(self)

    def tracking_close(self: Store) -> None:
        closed.append(self)
        real_close(self)

    def no_embedder(*args: Any, **kwargs: Any) -> None:
        raise ModelError("the embedder package is missing")

    monkeypatch.setattr(Store, "__init__", tracking_init)
    monkeypatch.setattr(Store, "close", tracking_close)
    monkeypatch.setattr(api, "embedder_named", no_embedder)
    with pytest.raises(ModelError, match="embedder package"):
        Memoryos(llm_model="none")
    assert len(opened) == 1 and closed == opened


class SlowAnalyser(ScriptedLLM):
    """Until the first answer, each analysis call takes `seconds` unless cancelled;
    records what happened in which order."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.events: list[str] = []

    def complete(self, messages: list[Message], **kwargs: Any) -> str:
        if "answer" not in self.events:
            cancelled = self._cancel.wait(self.seconds)
            self.events.append("analysis cancelled" if cancelled else "analysis ran")
        return super().complete(messages, **kwargs)

    def stream(self, messages: list[Message], **kwargs: Any) -> Any:
        self.events.append("answer")
        return super().stream(messages, **kwargs)


def queue_three_jobs() -> None:
    with Memoryos(settings=Env().settings(), llm_model="none", embedder=HashingEmbedder()) as mem:
        for i in range(3):
            mem.add_memory(f"old exchange {i}", "ok")
        with mem.store.transaction() as conn:
            for target in range(1, 4):
                jobs.enqueue(conn, mem.scope.owner_id, jobs.ANALYZE_PAGES, target)
        assert mem.pending_jobs() == 3


def test_the_first_answer_does_not_wait_for_queued_analysis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue_three_jobs()
    llm = SlowAnalyser(seconds=3.0)
    use_llm(monkeypatch, llm)
    result = CliRunner().invoke(app, ["chat"], input="hello\n")
    assert result.exit_code == 0, result.output
    first = llm.events.index("answer")
    assert "analysis ran" not in llm.events[:first]
