"""Short-term FIFO, movement into mid-term segments, heat and the analysis trigger."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import mid_term
from memoryos_cli.memory.heat import segment_heat
from memoryos_cli.memory.scope import NO_OWNER

T0 = 1_700_000_000.0
# Four topics the hashing embedder keeps apart: each page starts a segment of its own.
DISTINCT = [
    "violin lessons practice",
    "garden tomatoes compost",
    "rust compiler borrow",
    "marathon training pace",
]


def add(mem: Memoryos, n: int, text: str = "hiking in the alps with my sister", start: int = 0):
    return [
        mem.add_memory(f"{text} {i}", f"reply about {text} {i}", timestamp=T0 + 60 * (start + i))
        for i in range(n)
    ]


def test_short_term_is_fifo_at_capacity(mem: Memoryos) -> None:
    ids = add(mem, 9)
    short = mem.short_term()
    assert [p.id for p in short] == ids[2:]
    rows = mem.store.query("SELECT id, tier, segment_id FROM pages ORDER BY id")
    assert [(r[0], r[1]) for r in rows[:2]] == [(ids[0], "mid"), (ids[1], "mid")]
    assert all(r[2] is not None for r in rows[:2])


def spill_at_once(home: Path, how: str, **sizes: int) -> tuple[Memoryos, list[int]]:
    """Four distinct pages in short-term, then moved to mid-term together: by a new
    session, or by a smaller short-term capacity meeting the next exchange."""

    def open_(**settings: int) -> Memoryos:
        return Memoryos("alice", "a", home, llm_model=ScriptedLLM(), embedder=HashingEmbedder(),
                        **sizes, **settings)  # fmt: skip

    mem = open_()
    ids = [mem.add_memory(t, f"about {t}", timestamp=T0 + 60 * i) for i, t in enumerate(DISTINCT)]
    assert {p.tier for p in mem.pages()} == {"short"}
    if how == "new session":
        mem.new_session()
    else:
        mem.close()
        mem = open_(short_term_capacity=1)
        mem.add_memory("unrelated final words", "ok", timestamp=T0 + 600)
    return mem, ids


@pytest.mark.parametrize("how", ["new session", "smaller capacity"])
def test_pages_leaving_short_term_together_enter_mid_term_oldest_first(
    home: Path, how: str
) -> None:
    mem, ids = spill_at_once(home, how)
    with mem:
        segment_of = {p.id: p.segment_id for p in mem.pages(ids)}
        assert None not in segment_of.values() and len(set(segment_of.values())) == 4
        # segments are numbered as they are made: the oldest page made the first one
        assert [segment_of[i] for i in ids] == sorted(segment_of.values())


@pytest.mark.parametrize("how", ["new session", "smaller capacity"])
def test_a_full_mid_term_archives_the_oldest_of_pages_leaving_together(
    home: Path, how: str
) -> None:
    mem, ids = spill_at_once(home, how, mid_term_capacity=2)
    with mem:
        tiers = {p.id: p.tier for p in mem.pages(ids)}
        assert [tiers[i] for i in ids] == ["archive", "archive", "mid", "mid"]


def test_similar_pages_share_a_segment_and_different_topics_split(mem: Memoryos) -> None:
    add(mem, 3, "hiking in the alps with my sister")
    add(mem, 3, "quarterly tax return spreadsheet deadline", start=3)
    add(mem, 7, "filler chat number", start=6)  # push the first six out of short-term
    segs = {p.segment_id for p in mem.pages()[:3]}
    tax = {p.segment_id for p in mem.pages()[3:6]}
    assert len(segs) == 1 and len(tax) == 1
    assert segs != tax
    seg = next(s for s in mem.segments() if s.id in segs)
    assert seg.page_count == 3 and "hiking" in seg.keywords


def test_heat_formula() -> None:
    h = segment_heat(2, 3, T0, T0 + 24 * 3600, alpha=1, beta=1, gamma=1, tau_hours=24)
    assert math.isclose(h, 2 + 3 + math.exp(-1))


def test_heat_threshold_enqueues_one_analysis_job(mem: Memoryos) -> None:
    # 7 short-term + 4 in one segment: heat = 0 visits + 4 pages + recency(~1) >= 5
    add(mem, 10)
    assert mem.pending_jobs() == 0
    add(mem, 1, start=10)
    jobs = mem.store.query("SELECT kind, target_id, state FROM jobs")
    assert len(jobs) == 1 and jobs[0][0] == "analyze_segment" and jobs[0][2] == "pending"
    add(mem, 3, start=11)  # more pages join the hot segment: still one open segment job
    open_jobs = mem.store.query("SELECT kind FROM jobs WHERE state = 'pending' ORDER BY id")
    assert open_jobs == [("analyze_segment",), ("analyze_pages",)]  # 14 pages: a full batch


def test_retrieval_hits_bump_visits(mem: Memoryos) -> None:
    add(mem, 9)
    seg = mem.segments()[0]
    mem.retrieve("hiking alps sister")
    assert mem.segments()[0].n_visit == seg.n_visit + 1
    mem.search("hiking alps sister")  # a preview does not heat
    assert mem.segments()[0].n_visit == seg.n_visit + 1


def test_lfu_eviction_keeps_transcript(home, embedder, llm) -> None:
    mem = Memoryos(
        "bob",
        "a",
        home,
        llm_model=llm,
        embedder=embedder,
        mid_term_capacity=2,
        short_term_capacity=1,
    )
    topics = [
        "violin lessons practice",
        "garden tomatoes compost",
        "rust compiler borrow",
        "marathon training pace",
    ]
    for i, topic in enumerate(topics):
        mem.add_memory(topic, f"about {topic}", timestamp=T0 + i)
    mem.add_memory("unrelated final words", "ok", timestamp=T0 + 10)
    assert len(mem.segments()) == 2
    tiers = [p.tier for p in mem.pages()]
    assert tiers.count("archive") == 2 and len(tiers) == 5
    archived = [p for p in mem.pages() if p.tier == "archive"]
    hits = mem.search(archived[0].user_input, k=3)
    assert archived[0].id in [i.page.id for i in hits.mid_term if i.page]


@pytest.mark.parametrize("visited", [0, 1])
def test_lfu_eviction_takes_the_least_visited_segment(home: Path, visited: int) -> None:
    """Past mid_term_capacity the least-visited segment goes, older or newer: one of two
    segments is visited three times, then a third topic arrives."""
    with Memoryos("bob", "a", home, llm_model=ScriptedLLM(), embedder=HashingEmbedder(),
                  mid_term_capacity=2, short_term_capacity=1) as mem:  # fmt: skip
        first = [mem.add_memory(t, f"about {t}", timestamp=T0 + 60 * i) for i, t in
                 enumerate(DISTINCT[:3])]  # fmt: skip
        pages = mem.pages(first[:2])
        sids = [p.segment_id for p in pages]
        assert None not in sids and sids[0] != sids[1]
        with mem.store.transaction() as conn:
            for _ in range(3):
                mid_term.touch(conn, mem.scope.owner_id, [sids[visited]], settings=mem.settings)
        mem.add_memory(DISTINCT[3], "the third topic to reach mid-term", timestamp=T0 + 3600)
        kept = {s.id: s.n_visit for s in mem.segments()}
        assert sids[visited] in kept and kept[sids[visited]] == 3
        assert sids[1 - visited] not in kept
        evicted = mem.pages([first[1 - visited]])[0]
        assert (evicted.tier, evicted.segment_id) == ("archive", None)


def test_new_session_flushes_short_term(mem: Memoryos) -> None:
    add(mem, 3)
    mem.new_session()
    assert mem.short_term() == []
    assert {p.tier for p in mem.pages()} == {"mid"}
    assert mem.recent_pages() == []


def test_an_owner_row_comes_with_the_first_write_that_succeeds(mem: Memoryos) -> None:
    """Opening makes no row (reads find nothing); a first write that fails makes none and
    leaves the scope without one; the next write makes it in its own transaction."""
    owners = "SELECT user_id FROM owners"
    assert mem.search_pages("anything") == [] and mem.store.query(owners) == []
    with pytest.raises(RuntimeError), mem.scope.writing():
        raise RuntimeError("the disk filled up")
    assert mem.scope.owner_id == NO_OWNER and mem.store.query(owners) == []
    page = mem.add_memory("I keep bees.", "Lovely!")
    assert [tuple(r) for r in mem.store.query(owners)] == [("alice",)]
    assert [p.id for p in mem.pages()] == [page] and mem.scope.owner_id != NO_OWNER
