"""Profile and knowledge: supersession keeps history, duplicates only add evidence."""

from __future__ import annotations

from memoryos_cli.api import Memoryos
from memoryos_cli.memory import long_term


def test_profile_value_change_supersedes(mem: Memoryos) -> None:
    with mem.store.transaction() as conn:
        first = long_term.upsert_profile(conn, mem.scope.owner_id, "City", "Paris", [1], 10.0)
        same = long_term.upsert_profile(conn, mem.scope.owner_id, "city", "paris", [2], 11.0)
        new = long_term.upsert_profile(conn, mem.scope.owner_id, "city", "Lyon", [3], 12.0)
    assert same == first
    active = mem.profile()
    assert [(p.attribute, p.value) for p in active] == [("city", "Lyon")]
    history = mem.profile(history=True)
    old = next(p for p in history if p.id == first)
    assert old.superseded_by == new and old.evidence_count == 2 and old.source_page_ids == [1, 2]


def test_identical_fact_is_not_stored_twice(mem: Memoryos) -> None:
    a = mem.remember("Alice is allergic to peanuts")
    b = mem.remember("alice is allergic to peanuts.")
    assert a == b
    facts = mem.knowledge()
    assert len(facts) == 1 and facts[0].evidence_count == 2


def test_fact_supersedes_and_keeps_history(mem: Memoryos) -> None:
    old = mem.remember("Alice works at the bakery")
    vec = mem.embedder.embed(["Alice now works at the library"])[0]
    with mem.store.transaction() as conn:
        new = long_term.add_fact(
            conn, mem.scope.owner_id, "user", "Alice now works at the library", vec, [], 5.0, [old]
        )
    assert [f.id for f in mem.knowledge()] == [new]
    hist = {f.id: f for f in mem.knowledge(history=True)}
    assert hist[old].superseded_by == new


def test_knowledge_capacity_archives_oldest(home, embedder, llm) -> None:
    mem = Memoryos("c", "a", home, llm_model=llm, embedder=embedder, long_term_knowledge_capacity=3)
    ids = [mem.remember(f"fact number {w}") for w in ["one", "two", "three", "four", "five"]]
    active = [f.id for f in mem.knowledge()]
    assert active == ids[2:]
    assert len(mem.knowledge(history=True)) == 5
