"""A memory made with all-MiniLM-L6-v2 (the old default) moved to bge-small-en-v1.5 by
`memoryos reindex`, on the real models and sqlite-vec, as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.load import DEFAULT_EMBEDDER
from memoryos_cli.memory.page_text import page_text
from memoryos_cli.store import Store, vectors

pytestmark = pytest.mark.integration

OLD = "all-MiniLM-L6-v2"
T0 = 1_714_000_000.0
TALK = [  # one topic a page; the first ones end up in mid-term (short-term holds 7)
    ("I keep two beehives on the roof of my flat in Lyon", "Rooftop honey, lovely."),
    ("My grandmother taught me to knit cable sweaters", "A skill worth keeping."),
    ("I passed my motorcycle licence test on the second try", "Congratulations!"),
    ("Our basement flooded after the storm last night", "That sounds stressful."),
    ("I'm learning to play the cello at forty", "Never too late."),
    ("My son broke his wrist playing rugby", "I hope he heals quickly."),
    ("We adopted a greyhound retired from racing", "They make calm pets."),
    ("I'm training for a half marathon in October", "Good luck with the training."),
    ("My tomato plants got blight this summer", "Blight is hard to beat."),
    ("I switched my laptop from Windows to Linux", "How do you like it?"),
    ("My best friend moved to New Zealand", "You must miss her."),
    ("I've started brewing my own kombucha", "Watch the fermentation time."),
    ("The dentist says I need a root canal", "Not fun, but it helps."),
    ("I finished reading War and Peace finally", "Quite an achievement."),
    ("We're renovating the kitchen with oak cabinets", "Oak lasts a long time."),
    ("I got stung by a jellyfish on holiday in Greece", "Ouch, vinegar helps."),
    ("My car's gearbox failed on the motorway", "Glad you are safe."),
    ("I volunteer at the food bank on Saturdays", "That is generous of you."),
    ("I'm building a telescope to look at Jupiter", "Its moons are visible."),
    ("My twins start university in Edinburgh", "A big step for them."),
    ("I've been learning Japanese calligraphy", "Brush work takes patience."),
    ("Our landlord is raising the rent by 15 percent", "That is a steep rise."),
    ("I ran out of coffee beans this morning", "A rough start then."),
    ("My chess rating went past 1800 online", "Nice progress."),
    ("I'm sewing a quilt for my niece's birthday", "What a thoughtful gift."),
    ("The heat pump in our house keeps making noise", "Worth a service call."),
    ("I went scuba diving on the Great Barrier Reef", "What did you see?"),
    ("My boss offered me a promotion to team lead", "Well deserved."),
    ("I'm allergic to cats but my partner wants one", "A tricky choice."),
    ("We watched the northern lights in Tromsø", "An unforgettable sight."),
]
FACTS = ["Is vegetarian since 2015", "Works as a nurse in a children's hospital"]


def run(env: Env, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), obj=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def index_of(home: Path) -> dict[str, Any]:
    """The embedder the file is bound to and the rows of each vector table."""
    store = Store(home / "memoryos.db")
    try:
        tables = ("pages_vec", "pages_bin", "knowledge_vec", "segments_vec")
        counts = {t: int(store.one(f"SELECT COUNT(*) FROM {t}")[0]) for t in tables}
        return {"embedder": store.get_meta("embedder"), **counts}
    finally:
        store.close()


def stored_vectors(home: Path, table: str, key: str) -> dict[int, Any]:
    store = Store(home / "memoryos.db")
    try:
        rows = store.query(f"SELECT {key}, embedding FROM {table}")
        return {int(r[0]): vectors.from_blob(r[1]) for r in rows}
    finally:
        store.close()


def contents(mem: Memoryos) -> dict[str, Any]:
    stats = mem.stats()
    return {
        "counts": {k: stats[k] for k in ("pages", "short_term", "mid_term_pages", "segments",
                                         "user_knowledge", "assistant_knowledge")},
        "pages": [(p.id, p.user_input, p.agent_response, p.ts) for p in mem.pages()],
        "facts": [(f.id, f.text) for f in mem.knowledge()],
    }  # fmt: skip


def test_reindex_moves_a_minilm_memory_to_bge(home: Path, minilm: Any) -> None:
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=minilm) as mem:
        for i, (user, reply) in enumerate(TALK):
            mem.add_memory(user, reply, T0 + 3600 * i)
        for fact in FACTS:
            mem.remember(fact)
    env = Env(user="alice", assistant="assistant")

    # Opened with today's defaults, the file keeps its embedder and says how to move it.
    with Memoryos("alice", "assistant", home, llm_model="none") as mem:
        assert mem.embedder.name == OLD
        hint = mem.reindex_hint
        assert hint is not None and "`memoryos reindex`" in hint and DEFAULT_EMBEDDER in hint
        before = contents(mem)
    assert before["counts"]["pages"] == 30 and before["counts"]["user_knowledge"] == 2
    assert before["counts"]["segments"] > 0
    assert run(env, "stats").endswith(hint + "\n")
    assert index_of(home)["embedder"] == OLD

    out = run(env, "reindex").splitlines()
    assert out[0].startswith(f"re-embedding 30 pages and 2 facts with {DEFAULT_EMBEDDER}: about ")
    segments = before["counts"]["segments"]
    assert out[1:] == [
        f"reindexed 30 pages, {segments} segments and 2 facts with {DEFAULT_EMBEDDER} (384-d)"
    ]

    assert index_of(home)["embedder"] == DEFAULT_EMBEDDER  # bound by the reindex itself
    with Memoryos("alice", "assistant", home, llm_model="none") as mem:
        assert mem.embedder.name == DEFAULT_EMBEDDER
        assert mem.reindex_hint is None
        assert contents(mem) == before  # every page's text, every fact, every count
        assert index_of(home) == {
            "embedder": DEFAULT_EMBEDDER,
            "pages_vec": 30, "pages_bin": 30, "knowledge_vec": 2, "segments_vec": segments,
        }  # fmt: skip
        # Each vector is bge's for its own row's text (near, not equal: INT8 activations are
        # quantized per batch, so a text's vector moves a little with its batch-mates).
        pages, facts = mem.pages(), mem.knowledge()
        page_texts = [page_text(p.user_input, p.agent_response) for p in pages]
        for table, key, rows, texts in [
            ("pages_vec", "page_id", pages, page_texts),
            ("knowledge_vec", "knowledge_id", facts, [f.text for f in facts]),
        ]:
            stored = stored_vectors(home, table, key)
            sims = np.stack([stored[r.id] for r in rows]) @ mem.embedder.embed(texts).T
            assert list(sims.argmax(axis=1)) == list(range(len(rows))), table
            assert sims.diagonal().min() > 0.98, table
        # Early pages (long out of short-term), found by meaning: no word in common.
        for query, page in [
            ("Which of my hobbies involves bees?", "p1"),
            ("What do I know about a water leak at home?", "p4"),
        ]:
            recall = mem.search(query)
            assert page not in [i.ref for i in recall.short_term]
            assert page in [i.ref for i in recall.mid_term[:3]], query
        recall = mem.search("What does the user do for a living?")
        assert recall.knowledge[0].text == FACTS[1]
    stats = json.loads(run(env, "stats", "--json"))
    assert stats["embedder"] == DEFAULT_EMBEDDER and stats["reindex_hint"] is None
