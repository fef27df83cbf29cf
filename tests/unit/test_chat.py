"""The chat REPL driven through typer's CliRunner with scripted stdin and a fake LLM."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    llm = ScriptedLLM()

    def open_memory(self: Env, **kwargs: object) -> Memoryos:
        return Memoryos(settings=self.settings(), llm_model=llm, embedder=HashingEmbedder())

    monkeypatch.setattr(Env, "memoryos", open_memory)
    return llm


def user_turns(messages: list) -> list[str]:
    return [m["content"] for m in messages if m["role"] == "user"]


def chat(text: str) -> str:
    result = CliRunner().invoke(app, ["chat"], input=text)
    assert result.exit_code == 0, result.output
    return result.output


def test_chat_streams_answers_and_remembers_across_runs(fake_llm: ScriptedLLM, home) -> None:
    answers = {
        "My name is Ana and I love kayaking": "Nice to meet you, Ana.",
        "What is my name?": "You told me your name is Ana.",
    }
    # Keyed by the question, so analysis calls made in between take no answer away (the
    # user's turn: a turn saying to reply to what was told may follow it).
    fake_llm.default = lambda messages: next(
        (a for q, a in answers.items() if user_turns(messages)[-1].endswith(q)), "OK."
    )
    out = chat("My name is Ana and I love kayaking\n")
    assert "memoryos: Nice to meet you, Ana." in out
    chat("What is my name?\n/exit\n")
    # The second run's prompt carried the first run's exchange (as stored) as a recent turn.
    prompt = [c for c in fake_llm.calls if c["kind"] == "stream"][-1]["messages"]
    assert {"role": "user", "content": "My name is Ana and I love kayaking"} in prompt
    assert {"role": "assistant", "content": "Nice to meet you, Ana."} in prompt
    with Memoryos(settings=Env().settings(), llm_model="none", embedder=HashingEmbedder()) as mem:
        stored = [(p.user_input, p.agent_response) for p in mem.pages()]
    assert stored == [
        ("My name is Ana and I love kayaking", "Nice to meet you, Ana."),
        ("What is my name?", "You told me your name is Ana."),
    ]


def test_slash_commands(fake_llm: ScriptedLLM) -> None:
    out = chat(
        "/remember I am vegetarian\n/profile\n/memory long\n/search vegetarian\n/why\n"
        "/model\n/bogus\n/help\n/forget k1\n/memory long\n/exit\nnever reached\n"
    )
    assert "remembered as k1" in out
    assert out.count("I am vegetarian") >= 3
    assert "Nothing answered yet" in out
    assert "unknown command /bogus" in out
    assert "forgotten: 1 fact\n" in out
    assert "/remember TEXT" in out
    assert [c for c in fake_llm.calls if c["kind"] == "stream"] == []


def test_why_shows_recalled_memories(fake_llm: ScriptedLLM) -> None:
    out = chat("/remember My cat is called Pixel\nWhat is my cat called?\n/why\n")
    assert "Recalled for the last answer" in out
    assert "k1" in out and "My cat is called Pixel" in out
    (call,) = [c for c in fake_llm.calls if c["kind"] == "stream"]
    assert "My cat is called Pixel" in call["messages"][-1]["content"]


def test_why_names_the_foods_kept_out_of_the_answer(fake_llm: ScriptedLLM, home) -> None:
    with Memoryos(data_storage_path=home, embedder=HashingEmbedder(), llm_model=fake_llm) as mem:
        mem.set_profile("allergies", "shellfish")
    out = chat("Any dinner ideas?\n/why\n")
    assert "Kept out of it (your diet or allergies rule them out): " in out
    assert "shrimp" in out and "chicken" not in out


def test_user_text_is_not_markup(fake_llm: ScriptedLLM) -> None:
    fake_llm.replies = ["[bold]not bold[/bold] [red]x"]
    out = chat("/remember [link=http://x]click[/link]\n/memory long\nhello\n")
    assert "[link=http://x]click[/link]" in out
    assert "[bold]not bold[/bold] [red]x" in out


def test_new_session_keeps_long_term(fake_llm: ScriptedLLM, home) -> None:
    chat("hello there\n/new\n")
    result = CliRunner().invoke(app, ["chat"], input="/memory short\n")
    assert "hello there" not in result.output
    db_rows = Memoryos(settings=Env().settings(), llm_model="none", embedder=HashingEmbedder())
    assert [p.tier for p in db_rows.pages()] == ["mid"]
    assert json.loads(json.dumps(db_rows.stats()))["pages"] == 1


def test_what_a_first_session_says_is_in_the_profile_when_it_ends(
    fake_llm: ScriptedLLM, home
) -> None:
    def model(messages: list) -> str:
        prompt = messages[-1]["content"]
        if "Conversation excerpts" not in prompt:
            return "Nice!"
        excerpts = prompt.split("<<<", 1)[1].split(">>>", 1)[0]
        page = excerpts.split("[page ", 1)[1].split(" ", 1)[0]
        return json.dumps({"profile": [f"{page}: city = Porto"], "user_facts": []})

    fake_llm.default = model
    chat("Hi, I'm Ana.\nI live in Porto.\n")  # piped: the session ends at end of input
    analyses = [c for c in fake_llm.calls if c["kind"] == "complete"]
    assert len(analyses) == 1  # one call for the whole session, at its end
    out = CliRunner().invoke(app, ["profile", "show", "--json"]).output
    assert json.loads(out)[0]["value"] == "Porto"


def test_the_exit_analysis_gives_up_at_its_deadline(
    fake_llm: ScriptedLLM, home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORYOS_EXIT_CONSOLIDATION_SECONDS", "0.2")

    def slow_model(messages: list) -> str:
        if "Conversation excerpts" not in messages[-1]["content"]:
            return "Nice!"
        # An analysis that would take a minute, unless the model is told to stop.
        fake_llm._cancel.clear()
        fake_llm._cancel.wait(60)
        return "{}"

    fake_llm.default = slow_model
    out = chat("I live in Porto.\n")
    assert "out of time: the rest is queued for next time" in out
    with Memoryos(settings=Env().settings(), llm_model="none", embedder=HashingEmbedder()) as mem:
        assert mem.pending_jobs() == 1  # given back untouched, for a later session
        assert mem.store.query("SELECT attempts, error FROM jobs")[0] == (0, None)


def test_exit_while_the_loader_is_at_work_closes_the_store_and_leaves_with_0(
    fake_llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader may still be inside onnxruntime or llama.cpp at /exit (the judge's
    warm-up after a quick /search): the interpreter's exit would abort under it (-6, seen
    in tests/integration/test_chat_pty.py). The chat closes the store and leaves at once."""
    import os
    import threading

    from memoryos_cli.cli import repl

    release = threading.Event()
    events: list[str] = []
    monkeypatch.setattr(Memoryos, "warm_text_models", lambda self: release.wait(10))
    real_close = Memoryos.close

    def close(self: Memoryos) -> None:
        events.append("close")
        real_close(self)

    def leave(code: int) -> None:
        events.append(f"exit {code}")
        release.set()
        raise SystemExit(code)

    monkeypatch.setattr(Memoryos, "close", close)
    monkeypatch.setattr(os, "_exit", leave)
    monkeypatch.setattr(repl, "LOADER_JOIN_SECONDS", 0.05)
    result = CliRunner().invoke(app, ["chat"], input="/exit\n")
    assert result.exit_code == 0, result.output
    assert events[:2] == ["close", "exit 0"]
