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


def chat_session(
    home: Path, model: Path, lines: list[str], *, seed: int, answer_tokens: int
) -> dict[str, str]:
    """The user's path: a chat session (piped lines) and its exit analysis; its env."""
    env = dict(
        os.environ,
        MEMORYOS_HOME=str(home),
        MEMORYOS_MAX_ANSWER_TOKENS=str(answer_tokens),
        MEMORYOS_EXIT_CONSOLIDATION_JOBS="2",
        MEMORYOS_EXIT_CONSOLIDATION_SECONDS="900",  # a loaded CI machine: let it finish
        MEMORYOS_SEED=str(seed),
    )
    chat = subprocess.run(
        [memoryos_command(), "--model", str(model), "chat"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert chat.returncode == 0, chat.stderr
    return env


def test_a_first_chat_session_fills_profile_and_knowledge(
    home: Path, qwen_small_path: Path, default_embedder
) -> None:
    # Sampled answers are part of what the exit analysis reads: a fixed seed keeps this
    # test's input the same run to run (one fresh clone learned only "family = Emma" here
    # and the next passed; the cause was not pinned down).
    env = chat_session(home, qwen_small_path, FIRST_SESSION, seed=7, answer_tokens=16)

    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:
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


# A first session as a new user types it: name, job and city first; then a line that joins
# a fact about someone else to one about the speaker; then a plan.
WHO_SAYS_WHAT = [
    "Hi! I'm Mara Lindqvist, I work as a pharmacist in Bergen.",
    "My daughter Klara just started violin lessons, and I'm allergic to cats.",
    "Next month I'm flying to Oslo for a conference on green chemistry.",
]


def test_a_first_sessions_facts_land_on_the_right_person(
    home: Path, default_model_path: Path, default_embedder
) -> None:
    """The default model's analysis of a first chat session stores the user's name, job and
    city, the daughter's violin lessons, the allergy as the user's, never Klara's (Qwen
    1.5B stored "Klara ... and she's allergic to cats" in 3 runs of 3 before), and the
    trip to Oslo as the user's (stored in 0 of 5 runs before the second look, 5 of 5
    after)."""
    chat_session(home, default_model_path, WHO_SAYS_WHAT, seed=3, answer_tokens=24)
    with Memoryos(data_storage_path=home, llm_model="none", embedder=default_embedder) as mem:
        items = [f"{p.attribute} = {p.value}" for p in mem.profile()]
        items += [f.text for f in mem.knowledge("user")]
    said = " | ".join(items).lower()
    for word in ("mara", "pharmacist", "bergen", "klara", "violin", "oslo"):
        assert word in said, items
    for item in [i for i in items if "oslo" in i.lower()]:
        assert " = " in item or item.startswith(("Mara", "The user")), items
    allergy = [i for i in items if "allerg" in i.lower()]
    assert allergy, items
    for item in allergy:  # the user's: a profile item, or a fact with the user as subject
        assert "klara" not in item.lower() and "she" not in item.lower().split(), items
        assert " = " in item or item.startswith(("Mara", "The user")), items
    for item in items:  # nothing of the user's is put on the assistant or on Klara
        assert not item.lower().startswith(("the assistant", "klara is allergic")), items


ADVISED = [
    ("Hi! I'm Mara Lindqvist, I work as a pharmacist in Bergen.", "Nice to meet you, Mara!"),
    ("My daughter Klara just started violin lessons, and I'm allergic to cats.",
     "How lovely for Klara! And good to know about the cats."),
    ("Next month I'm flying to Oslo for a conference on green chemistry.",
     "Safe travels, enjoy the conference!"),
]  # fmt: skip


def test_the_users_plan_told_back_as_advice_is_stored_as_the_users(
    home: Path, default_model_path: Path, default_embedder
) -> None:
    """Exchanges an agent stores through the API (its own answers), analysed by the default
    model: Qwen 1.5B files the Oslo trip under the assistant ("The assistant suggested that
    the user should fly to Oslo...", greedy decoding, every run here). The rules make it the
    user's plan, with its month pinned; nothing about the trip is left on the assistant.
    Which rule moves it depends on the model's wording, which differs between CPUs: on the
    machine of earlier sessions `reported_plan` (advice), on a 2-core AMD EPYC with AVX2
    `misattributed` (the user's own words filed under the assistant)."""
    with Memoryos(
        data_storage_path=home,
        llm_model=str(default_model_path),
        embedder=default_embedder,
        timezone="UTC",
    ) as mem:
        for i, (user, agent) in enumerate(ADVISED):
            mem.add_memory(user, agent, timestamp=1_700_000_000 + 60 * i)  # 14 Nov 2023
        mem.end_session()
        assert mem.consolidate() == 1
        user = [f.text for f in mem.knowledge("user")]
        assistant = [f.text for f in mem.knowledge("assistant")]
        log = mem.analysis_log()
        notes = [(e.note.rule, e.note.action) for e in log]
        moved = [e.note.rule for e in log if e.note.action == "moved" and "Oslo" in e.note.item]
    oslo = [t for t in user if "Oslo" in t]
    assert oslo and all(t.startswith("Mara") for t in oslo), (user, notes)
    assert any("December 2023" in t for t in oslo), (user, notes)
    assert not [t for t in assistant if "Oslo" in t], (assistant, notes)
    assert set(moved) & {"reported_plan", "misattributed"}, notes
