"""Hybrid recall (vec KNN + BM25 via RRF), tiers in the result, isolation between owners."""

from __future__ import annotations

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.bench import methods
from memoryos_cli.memory import long_term
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


# Newer than the Raj page (recency prefers them), and made of words that the 64-d
# hashing embedder puts in the same bucket as "raj" (rice, salad, red, swan, story,
# keyboard, march), so a dense-only ranking prefers them too.
NOT_RAJ = [
    ("Rice salad for lunch again", "Red rice salad is nice."),
    ("I read a story about a swan", "Swans are graceful."),
    ("My new keyboard is red", "Red keyboards look sharp."),
    ("The march is in March", "Bring water to the march."),
    ("A red swan in a story", "What a story."),
    ("Salad with rice and red pepper", "A healthy choice."),
    ("I typed a story on my keyboard", "Keep writing."),
    ("Swan lake in March", "A lovely ballet."),
]


def test_bm25_finds_a_name_the_embedder_misses_after_it_left_short_term(
    mem: Memoryos, embedder
) -> None:
    raj = mem.add_memory("My manager Raj praised my report", "Well deserved.", timestamp=T0)
    for i, (u, a) in enumerate(NOT_RAJ, start=1):
        mem.add_memory(u, a, timestamp=T0 + 3600 * i)
    qvec = embedder.embed(["Raj"])[0]
    assert raj not in methods.recency(mem, "Raj", qvec, mem.settings.short_term_capacity)
    assert raj not in methods.dense(mem, "Raj", qvec, 3)  # the embedder misses the name
    r = mem.search("Raj")
    assert raj not in [i.page.id for i in r.short_term if i.page]
    assert [i.page.id for i in r.mid_term if i.page][:1] == [raj]
    best = max(r.short_term + r.mid_term, key=lambda i: i.score)
    assert best.page is not None and best.page.id == raj


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


TABLES = {"p": "pages", "k": "knowledge", "u": "profile_items", "s": "segments"}


def owner_of(mem: Memoryos, ref: str) -> int:
    """Whose row `ref` (p12, k3, u4, s5) is, read from the store."""
    sql = f"SELECT owner_id FROM {TABLES[ref[0]]} WHERE id = ?"
    return int(mem.store.one(sql, (int(ref[1:]),))[0])


@pytest.mark.parametrize("touch", [True, False], ids=["retrieve", "search"])
def test_every_recalled_item_belongs_to_the_owner_who_asked(home, embedder, llm, touch) -> None:
    """Three owners in one file write in turns, so each page's id neighbours are another
    owner's pages (the neighbour lookup reads ids - 1 and + 1), with facts and profiles."""
    mems = [
        Memoryos("alice", "a", home, llm_model=llm, embedder=embedder),
        Memoryos("bob", "a", home, llm_model=llm, embedder=embedder),
        Memoryos("alice", "b", home, llm_model=llm, embedder=embedder),
    ]
    try:
        for i, (u, a) in enumerate(TOPICS):
            for n, mem in enumerate(mems):
                mem.add_memory(f"{u} ({n})", a, timestamp=T0 + 3600 * i + n)
        for n, mem in enumerate(mems):
            mem.remember(f"Owner {n} keeps the safe code 451{n} under the Emma photo")
            with mem.store.transaction() as conn:
                long_term.upsert_profile(conn, mem.scope.owner_id, "pet", f"cat {n}", [], T0)
        for mem in mems:
            refs: list[str] = []
            for query in ("safe code Emma wedding", "cat Pixel", "violin marathon Berlin"):
                r = mem.retrieve(query, touch=touch)
                assert r.mid_term, query
                refs += [i.ref for i in r.items()] + [p.ref for p in r.profile]
                refs += [f"s{sid}" for sid, _ in r.segments]
            assert {ref[0] for ref in refs} == set(TABLES)  # every kind of memory came back
            owners = {ref: owner_of(mem, ref) for ref in refs}
            assert owners == dict.fromkeys(refs, mem.scope.owner_id)
    finally:
        for mem in mems:
            mem.close()


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


def test_answer_prompt_carries_recall_and_profile_and_the_exchange_is_stored(
    mem: Memoryos, llm
) -> None:
    ids = fill(mem)  # the Emma page (ids[0]) has left short-term and the recent turns
    with mem.store.transaction() as conn:
        long_term.upsert_profile(conn, mem.scope.owner_id, "diet", "vegetarian", [ids[1]], T0)
    mem.remember("Emma's wedding is on June 14")
    llm.default = "Emma marries in June."
    list(mem.stream_response("When does Emma marry?"))
    (call,) = [c for c in llm.calls if c["kind"] == "stream"]
    system, question = call["messages"][0]["content"], call["messages"][-1]["content"]
    assert "vegetarian" in system
    assert "Emma is getting married in Lisbon" in question and "June 14" in question
    assert question.endswith("When does Emma marry?")
    assert mem.last_prompt is not None and mem.last_prompt.messages == call["messages"]
    page = mem.pages()[-1]
    assert (page.user_input, page.agent_response, page.tier) == (
        "When does Emma marry?",
        "Emma marries in June.",
        "short",
    )
