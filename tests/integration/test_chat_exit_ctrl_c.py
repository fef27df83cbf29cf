"""Ctrl-C during the exit analysis of `memoryos chat` leaves at once, in a real
pseudo-terminal with real llama.cpp (SmolLM2) and the default embedder, even while llama.cpp
evaluates the analysis's prompt of thousands of tokens (before: the cancel waited for the whole
prompt, minutes on a loaded machine, with the chat's main thread inside llama.cpp)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import chat_in_terminal

pytestmark = pytest.mark.integration

STORY = " ".join(
    f"On day {i} I fixed the bike, watered the basil and called my sister Lena in Porto."
    for i in range(14)
)


def test_ctrl_c_leaves_the_exit_analysis_inside_its_prompt(
    home: Path, smol_model_path: Path, default_embedder
) -> None:
    from memoryos_cli.api import Memoryos

    # Long pages not analysed yet, one short of a batch and none of them a hot segment: no
    # analysis while chatting, one of ~6,000 prompt tokens at exit.
    with Memoryos(
        data_storage_path=home,
        llm_model="none",
        embedder=default_embedder,
        mid_term_heat_threshold=99,
    ) as mem:
        for i in range(11):
            mem.add_memory(f"Page {i}. {STORY}", f"Noted, page {i}. {STORY}")
        assert mem.pending_jobs() == 0
    term = chat_in_terminal(home, smol_model_path, MEMORYOS_CONTEXT_TOKENS="8192")
    term.expect("you>")
    for _ in range(120):  # the exit analysis needs the model loaded
        term.send("/model\r")
        if "(loaded)" in term.expect("you>", timeout=60)[term.seen - 200 :]:
            break
        time.sleep(1)
    # The "you>" matched may be the one that echoes the command, before its answer: give
    # the chat the moment it needs to print it and prompt again, or the ^D typed while
    # /model runs is lost (a fresh-clone run timed out waiting for the exit analysis).
    time.sleep(1)
    term.send("\x04")
    term.expect("leave now", timeout=120)
    time.sleep(1)  # well inside the prompt's evaluation
    pressed = time.monotonic()
    term.send("\x03")
    term.expect("left now: the rest is queued for next time", timeout=60)
    assert term.close(timeout=60) == 0
    assert time.monotonic() - pressed < 5  # within a second, with room for a busy machine
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:
        assert mem.pending_jobs() == 1  # the analysis waits for next time
