"""The engine on a real SQLite file with the real all-MiniLM-L6-v2 embedder."""

from __future__ import annotations

from memoryos_cli.api import Memoryos

T0 = 1_700_000_000.0
CONVERSATION = [
    ("I just got back from a climbing trip in Yosemite", "How was El Capitan?"),
    ("We only did easy routes, my knee still hurts", "Take care of that knee."),
    ("My daughter Lily starts kindergarten next week", "Exciting milestone for Lily!"),
    ("She is nervous about making friends", "Kids adapt quickly."),
    ("I'm baking sourdough bread every weekend", "Sourdough takes patience."),
    ("My starter is called Bubbles", "Cute name for a starter."),
    ("Work has been stressful with the product launch", "Launches are intense."),
    ("The launch date moved to March 3rd", "Good to have a firm date."),
    ("I watched a documentary about octopuses", "They are remarkably smart."),
    ("Thinking of buying an electric bike to commute", "E-bikes are great for commuting."),
]


def test_semantic_recall_across_tiers_with_real_embedder(home, minilm, llm) -> None:
    mem = Memoryos("u", "a", home, llm_model=llm, embedder=minilm)
    ids = [mem.add_memory(u, a, timestamp=T0 + 3600 * i) for i, (u, a) in enumerate(CONVERSATION)]
    assert mem.stats()["embedder"] == "all-MiniLM-L6-v2"
    assert mem.store.get_meta("embedding_dim") == "384"
    r = mem.retrieve("How is my child doing at school?")
    top = [i.page.id for i in r.mid_term[:3] if i.page]
    assert ids[2] in top  # "kindergarten" found without sharing a word with the query
    r = mem.retrieve("What hobby involves fermenting dough?")
    best_short = max(r.short_term, key=lambda i: i.similarity)
    assert best_short.page is not None and best_short.page.id == ids[4]
    segs = mem.segments()
    assert sum(s.page_count for s in segs) == 3
    mem.close()
    again = Memoryos("u", "a", home, llm_model=llm, embedder=minilm)
    assert [p.id for p in again.pages()] == ids
