"""Hybrid recall (vec KNN + BM25 via RRF), tiers in the result, isolation between owners."""

from __future__ import annotations

from memoryos_cli.api import Memoryos
from memoryos_cli.memory.context import window_start
from memoryos_cli.memory.retrieve import rrf

T0 = 1_700_000_000.0
TOPICS = [
    ("My sister Emma is getting married in Lisbon in June", "Congratulations to Emma!"),
    ("I adopted a grey cat called Pixel", "Pixel is a lovely name."),
    ("My tax return is due on the 30th", "Let's plan the paperwork."),
    ("I started learning the violin", "Practice daily, even briefly."),
    ("We planted tomatoes in the garden", "Tomatoes love sun."),
    ("My manager Raj praised my report", "Well deserved."),
    ("I ran a half marathon in 1:52", "Great time!"),
    ("The dentist appointment is on Friday", "Noted."),
    ("I'm reading Dune again", "A classic."),
    ("Considering a move to Berlin", "Big decision."),
]


def fill(mem: Memoryos) -> list[int]:
    return [mem.add_memory(u, a, timestamp=T0 + 3600 * i) for i, (u, a) in enumerate(TOPICS)]


def test_rrf_fuses_ranks() -> None:
    scores = rrf([[1, 2, 3], [3, 1]], k=60)
    assert scores[1] == 1 / 61 + 1 / 62
    assert scores[3] == 1 / 63 + 1 / 61
    assert max(scores, key=scores.get) == 1  # type: ignore[arg-type]


def test_recall_returns_every_tier_with_scores_and_times(mem: Memoryos) -> None:
    ids = fill(mem)
    mem.remember("Emma's wedding is on June 14 in Lisbon")
    r = mem.retrieve("When is my sister Emma's wedding?")
    assert [i.page.id for i in r.short_term if i.page] == ids[3:]
    assert r.mid_term and r.mid_term[0].page is not None and r.mid_term[0].page.id == ids[0]
    assert r.mid_term[0].tier == "mid" and r.mid_term[0].ts == T0
    assert r.knowledge[0].text.startswith("Emma's wedding")
    assert all(i.score > 0 for i in r.mid_term)


def test_bm25_finds_exact_names_the_embedder_misses(mem: Memoryos) -> None:
    ids = fill(mem)
    r = mem.search("Raj")
    assert ids[5] in [i.page.id for i in (r.mid_term + r.short_term) if i.page]


def test_users_do_not_see_each_other(home, embedder, llm) -> None:
    alice = Memoryos("alice", "a", home, llm_model=llm, embedder=embedder)
    bob = Memoryos("bob", "a", home, llm_model=llm, embedder=embedder)
    alice_other_assistant = Memoryos("alice", "b", home, llm_model=llm, embedder=embedder)
    fill(alice)
    alice.remember("Alice secret: the safe code is 4512")
    bob.add_memory("I like chess", "ok")
    for other in (bob, alice_other_assistant):
        r = other.retrieve("safe code sister Emma wedding")
        texts = " ".join(i.text for i in r.items())
        assert "Emma" not in texts and "4512" not in texts
        assert other.knowledge() == []
    assert alice.stats()["pages"] == 10 and bob.stats()["pages"] == 1


def test_prompt_layout_and_budget(mem: Memoryos) -> None:
    fill(mem)
    built = mem.prepare("When is Emma's wedding?")
    roles = [m["role"] for m in built.messages]
    assert roles[0] == "system" and roles[-1] == "user"
    assert roles[1:-1] == ["user", "assistant"] * (len(roles[1:-1]) // 2)
    last = built.messages[-1]["content"]
    assert last.endswith("When is Emma's wedding?") and "Lisbon" in last
    assert built.recalled_tokens <= mem.settings.recall_token_budget


def test_recent_window_grows_append_only_then_cuts_in_blocks() -> None:
    cap = 3
    start = window_start([1, 2, 3, 4], None, cap)
    assert start == 2
    assert window_start([1, 2, 3, 4, 5, 6], start, cap) == 2  # grows: prefix unchanged
    assert window_start([1, 2, 3, 4, 5, 6, 7], start, cap) == 5  # 2 x cap: cut to cap


def test_get_response_streams_and_stores(mem: Memoryos, llm) -> None:
    llm.default = "Emma marries in June."
    pieces = list(mem.stream_response("When does Emma marry?"))
    assert "".join(pieces) == "Emma marries in June."
    page = mem.pages()[-1]
    assert (page.user_input, page.agent_response) == (
        "When does Emma marry?",
        "Emma marries in June.",
    )
    assert mem.last_prompt is not None
