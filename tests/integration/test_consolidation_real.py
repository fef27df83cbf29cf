"""Long-term memory with a real model: a first session's stated facts become profile and
knowledge with provenance, reach a later prompt, and `memory why` shows their sources."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from helpers import memoryos_command

from memoryos_cli.api import Memoryos

FIRST_SESSION = [
    "Hi! My name is Ana Souza.",
    "I live in Porto and I work as a nurse at the city hospital.",
    "My sister Emma visits me next week, we will go hiking together.",
]
STATED = ("ana", "porto", "nurse", "emma", "hik")


def _mentions(texts: list[str]) -> set[str]:
    joined = " ".join(texts).lower()
    return {word for word in STATED if word in joined}


def test_a_first_chat_session_fills_profile_and_knowledge(
    home: Path, qwen_small_path: Path, minilm
) -> None:
    env = dict(
        os.environ,
        MEMORYOS_HOME=str(home),
        MEMORYOS_MAX_ANSWER_TOKENS="16",
        MEMORYOS_EXIT_CONSOLIDATION_JOBS="2",
        MEMORYOS_EXIT_CONSOLIDATION_SECONDS="900",  # a loaded CI machine: let it finish
        # Sampled answers are part of what the exit analysis reads: a fixed seed keeps this
        # test's input the same run to run (one fresh clone learned only "family = Emma"
        # here and the next passed; the cause was not pinned down).
        MEMORYOS_SEED="7",
    )
    # The user's path: a chat session (piped lines), its exit analysis, then inspection.
    chat = subprocess.run(
        [memoryos_command(), "--model", str(qwen_small_path), "chat"],
        input="\n".join(FIRST_SESSION) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert chat.returncode == 0, chat.stderr

    with Memoryos(data_storage_path=home, llm_model="none", embedder=minilm) as mem:
        pages = {p.id: p for p in mem.pages()}
        assert len(pages) == 3 and all(p.analyzed for p in pages.values())
        profile, facts = mem.profile(), mem.knowledge("user")
        learned = [f"{p.attribute} {p.value}" for p in profile] + [f.text for f in facts]
        # At least two of the stated facts made it, in the user's own terms.
        assert len(_mentions(learned)) >= 2, learned
        # Provenance: every item cites pages of this session.
        for item in [*profile, *facts]:
            assert item.source_page_ids and set(item.source_page_ids) <= set(pages)

        # They reach a later answer's prompt: profile in the system message, facts recalled.
        built = mem.prepare("What do you know about my job and my family?", recent=False)
        prompt = " ".join(m["content"] for m in built.messages).lower()
        assert len(_mentions([prompt])) >= 2, prompt

    fact = (facts or [None])[0]
    ref = fact.ref if fact is not None else profile[0].ref
    why = subprocess.run(
        [memoryos_command(), "memory", "why", ref, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert why.returncode == 0, why.stderr
    shown = json.dumps(json.loads(why.stdout)).lower()
    cited = (fact or profile[0]).source_page_ids
    assert all(pages[i].user_input.lower()[:20] in shown for i in cited)
