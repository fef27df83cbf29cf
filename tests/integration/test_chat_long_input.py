"""`memoryos chat` in a real pseudo-terminal (SmolLM2 and the default embedder): a 36 KB
page or paste is answered, and the first answer never waits for old analysis."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest
from helpers import Terminal, chat_env, chat_in_terminal, memoryos_command

from memoryos_cli.api import Memoryos
from memoryos_cli.store import Store

pytestmark = pytest.mark.integration

# About 36 KB: ~19,000 SmolLM2 tokens, far more than any context here.
LONG = "\n".join(
    f"Line {i}: the ferry to Vigo leaves at {i % 24}:15 from pier {i}." for i in range(720)
)


def answered(term: Terminal) -> str:
    """Wait for a whole answer and the next prompt; return what was shown for it."""
    term.expect("memoryos: ", timeout=300)
    start = term.seen
    screen = term.expect("you>", timeout=300)
    return screen[start : term.seen]


def leave(term: Terminal) -> None:
    """Ctrl-D, then Ctrl-C if the exit drain starts: its analyses are not these tests'."""
    term.send("\x04")
    with contextlib.suppress(AssertionError):  # no drain: the chat has already left
        term.expect("leave now", timeout=120)
        term.send("\x03")
    assert term.close() == 0


def test_a_36_kb_page_and_a_36_kb_paste_are_answered(home: Path, smol_model_path: Path) -> None:
    assert len(LONG) > 36_000
    stored = subprocess.run(
        [memoryos_command(), "add", "--user-input", LONG, "--response", "ok"],
        env=chat_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert stored.returncode == 0, stored.stderr

    # A small context keeps SmolLM2 quick on a busy CPU; the old prompt overflowed any.
    small = {"MEMORYOS_CONTEXT_TOKENS": "1024", "MEMORYOS_MAX_ANSWER_TOKENS": "48"}
    term = chat_in_terminal(home, smol_model_path, **small)
    term.expect("you>", timeout=120)
    term.send("Which pier does the ferry leave from?\r")
    shown = answered(term)  # the old chat exited here: "Requested tokens ... exceed context"
    assert "error:" not in shown
    term.paste(LONG)
    term.send("\r")
    shown = answered(term)
    assert "error:" not in shown
    leave(term)
    store = Store(home / "memoryos.db")
    try:
        stored_inputs = [str(r[0]) for r in store.query("SELECT user_input FROM pages ORDER BY id")]
    finally:
        store.close()
    assert stored_inputs[0] == stored_inputs[2] == LONG  # shortened in the prompt only


def test_the_first_answer_comes_before_queued_analysis(
    home: Path, smol_model_path: Path, default_embedder
) -> None:
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:
        for i in range(36):  # a full batch of pages queues one analysis: three batches
            mem.add_memory(f"On day {i} I fed the ducks {i} crumbs.", f"Noted, day {i}.")
        assert mem.pending_jobs() >= 3

    # This test is about when the first answer comes, not its length (SmolLM2 can ramble
    # to the cap: 384 tokens took over 300 s with another llama.cpp on the 2 cores) nor
    # the exit analysis of 36 pages.
    term = chat_in_terminal(
        home,
        smol_model_path,
        MEMORYOS_EXIT_CONSOLIDATION_JOBS="0",
        MEMORYOS_MAX_ANSWER_TOKENS="48",
    )
    term.expect("you>", timeout=120)
    term.send("What did I feed the ducks?\r")
    answered(term)
    store = Store(home / "memoryos.db")
    try:
        question, asked_at = store.one("SELECT user_input, ts FROM pages ORDER BY id DESC")
        attempts_before = store.query(
            "SELECT id, state, error FROM jobs WHERE updated_at < ?"
            " AND (state IN ('done', 'failed') OR error IS NOT NULL)",
            (asked_at,),
        )
        open_jobs = store.one("SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'running')")[0]
    finally:
        store.close()
    assert question == "What did I feed the ducks?"
    assert [tuple(r) for r in attempts_before] == []  # no analysis ran before the question
    assert open_jobs >= 3
    leave(term)
