"""`memoryos chat` in a real pseudo-terminal with real llama.cpp (SmolLM2) and the default embedder:
what is said in one run is recalled in the next."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import Terminal, chat_env, chat_in_terminal, memoryos_command

pytestmark = pytest.mark.integration


def test_fact_from_one_chat_is_recalled_in_the_next(
    home: Path, smol_model_path: Path, default_embedder
) -> None:
    env = chat_env(
        home,
        MEMORYOS_MAX_ANSWER_TOKENS="24",  # what is recalled matters here, not the answer
        # Recall across runs, not analysis (test_consolidation_real covers that): SmolLM2
        # analysing the session at exit takes minutes on a loaded machine.
        MEMORYOS_EXIT_CONSOLIDATION_JOBS="0",
    )
    args = [memoryos_command(), "--model", str(smol_model_path), "chat"]

    first = Terminal(args, env)
    first.expect("you>")
    first.send("My favourite colour is teal and my dog is called Biscuit.\r")
    first.expect("memoryos: ", timeout=180)
    first.expect("you>", timeout=180)
    first.send("\x04")  # Ctrl-D leaves
    assert first.close() == 0

    # Later talk pushes the fact out of short-term, and leaves more mid-term pages than
    # recall returns: only ranking by meaning brings it back, not recency or id order.
    from memoryos_cli.api import Memoryos

    later = [
        ("I repainted the kitchen cabinets green.", "Sounds fresh."),
        ("My train to Porto leaves at nine.", "Safe travels."),
        ("I'm learning to make dumplings.", "Delicious."),
        ("The printer at work jammed again.", "Annoying."),
        ("I finished a novel about Mars.", "Was it good?"),
        ("We booked a cabin for the holidays.", "How cosy."),
        ("My phone battery dies by noon.", "Maybe replace it."),
        ("I joined a choir on Thursdays.", "Singing is fun."),
        ("The bakery on my street closed.", "That's a pity."),
        ("I switched to a standing desk.", "Good for your back."),
        ("My cousin is visiting from Chile.", "Lovely."),
        ("I planted basil on the balcony.", "Fresh herbs!"),
        ("Our team won the quiz night.", "Congratulations!"),
        ("I need new running shoes.", "Try them on first."),
    ]
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:
        for user_input, response in later:
            mem.add_memory(user_input, response)
        pages = mem.pages()
        mid = [p for p in pages if p.tier == "mid"]
        assert "Biscuit" in pages[0].user_input and pages[0] in mid
        assert len(mid) > mem.settings.retrieval_queue_capacity

    second = Terminal(args, env)
    second.expect("you>")
    second.send("/search what is my dog called\r")
    second.expect("Would recall", timeout=120)
    screen = second.expect("you>", timeout=120)
    assert "Biscuit" in screen[screen.index("Would recall") :]
    second.send("/exit\r")
    assert second.close() == 0


def test_ctrl_c_stops_an_answer_not_the_chat(home: Path, smol_model_path: Path) -> None:
    term = chat_in_terminal(home, smol_model_path, MEMORYOS_MAX_ANSWER_TOKENS="2000")
    term.expect("you>")
    term.send("Write a very long story about a dragon who learns to bake bread.\r")
    term.expect("memoryos: ", timeout=180)
    time.sleep(0.5)
    term.send("\x03")  # Ctrl-C while tokens stream
    term.expect("[stopped]", timeout=60)
    term.expect("you>", timeout=60)
    term.send("/memory short\r")
    term.expect("Short-term memory", timeout=60)
    start = term.seen
    shown = term.expect("you>", timeout=60)[start:]
    # The interrupted exchange was stored (its question at least, were Ctrl-C faster than
    # the first token on a loaded machine) and is shown in short-term memory.
    assert "p1" in shown and "dragon" in shown
    term.send("\x04")
    # The exit analysis of that exchange starts; Ctrl-C leaves at once and keeps it queued
    # (SmolLM2 analysing on a loaded machine would otherwise hold the exit for minutes).
    term.expect("leave now", timeout=120)
    term.send("\x03")
    term.expect("left now: the rest is queued for next time", timeout=60)
    assert term.close() == 0
