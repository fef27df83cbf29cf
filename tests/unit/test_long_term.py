"""Profile and knowledge: supersession keeps history, duplicates only add evidence."""

from __future__ import annotations

import json

from memoryos_cli.api import Memoryos
from memoryos_cli.memory import long_term


def test_profile_value_change_supersedes(mem: Memoryos) -> None:
    with mem.scope.writing() as conn:
        first = long_term.upsert_profile(conn, mem.scope.owner_id, "City", "Paris", [1], 10.0)
        same = long_term.upsert_profile(conn, mem.scope.owner_id, "city", "paris", [2], 11.0)
        new = long_term.upsert_profile(conn, mem.scope.owner_id, "city", "Lyon", [3], 12.0)
    assert same == first
    active = mem.profile()
    assert [(p.attribute, p.value) for p in active] == [("city", "Lyon")]
    history = mem.profile(history=True)
    old = next(p for p in history if p.id == first)
    assert old.superseded_by == new and old.evidence_count == 2 and old.source_page_ids == [1, 2]


MAY_8 = 1683504000.0  # Mon 8 May 2023


def test_identical_fact_is_not_stored_twice(mem: Memoryos) -> None:
    a = mem.remember("Alice is allergic to peanuts")
    b = mem.remember("alice is allergic to peanuts.")
    assert a == b
    facts = mem.knowledge()
    assert len(facts) == 1 and facts[0].evidence_count == 2


def test_a_fact_said_again_keeps_the_day_it_was_first_said(mem: Memoryos) -> None:
    """Its words were written against that day ("yesterday (7 May 2023)"): shown under a
    later day, the model read the later one (LoCoMo: "26 June 2023" for a May event)."""
    text = "Caroline went to a support group yesterday (7 May 2023)."
    vec = mem.embedder.embed([text])[0]
    with mem.scope.writing() as conn:
        owner = mem.scope.owner_id
        first = long_term.add_fact(conn, owner, "user", text, vec, [2], MAY_8)
        again = long_term.add_fact(conn, owner, "user", text, vec, [16], MAY_8 + 50 * 86400)
    assert again == first
    (fact,) = mem.knowledge()
    assert fact.ts == MAY_8 and fact.source_page_ids == [2, 16] and fact.evidence_count == 2


def test_migration_dates_a_fact_said_twice_by_its_first_page(mem: Memoryos) -> None:
    from memoryos_cli.store.migrations import m006_facts_dated_when_first_said

    first = mem.add_memory("I went to a support group yesterday.", "Great!", timestamp=MAY_8)
    later = mem.add_memory("Support group again.", "Nice.", timestamp=MAY_8 + 50 * 86400)
    once = mem.add_memory("I paint.", "Lovely.", timestamp=MAY_8 + 60 * 86400)
    rows = [  # text, sources, evidence, ts: as the old MAX rule left them
        ("Caroline went to a support group on 7 May 2023.", [first, later], 2, MAY_8 + 50 * 86400),
        # Said once, citing two pages: dated by them as it was written, left alone.
        ("Caroline paints.", [first, once], 1, MAY_8 + 60 * 86400),
    ]
    with mem.store.transaction() as conn:
        for text, sources, evidence, ts in rows:
            conn.execute(
                "INSERT INTO knowledge(owner_id, kind, text, source_page_ids, evidence_count, ts,"
                " created_at, updated_at) VALUES (?, 'user', ?, ?, ?, ?, 1, 1)",
                (mem.scope.owner_id, text, json.dumps(sources), evidence, ts),
            )
        m006_facts_dated_when_first_said(conn)
    dated = {f.text: f.ts for f in mem.knowledge()}
    assert dated == {
        "Caroline went to a support group on 7 May 2023.": MAY_8,
        "Caroline paints.": MAY_8 + 60 * 86400,
    }


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


def test_migration_folds_prefixed_attributes_into_one_row(mem: Memoryos) -> None:
    """Stores written before the fix hold "profile_name" rows beside "name": m005 folds them."""
    from memoryos_cli.store.migrations import m005_profile_attribute_prefixes

    rows = [  # attribute, value, sources: as the old normalizer stored a model's echoes
        ("name", "Caroline", [1]),
        ("profile_name", "Caroline", [7]),
        ("profile_profile_name", "caroline!", [9]),
        ("goals", "adopt", [2]),
        ("profile_goals", "run a marathon", [8]),
        ("profile_age", "30", [5]),
    ]
    with mem.scope.writing() as conn:
        owner = mem.scope.owner_id
        for attr, value, sources in rows:
            conn.execute(
                "INSERT INTO profile_items(owner_id, attribute, value, source_page_ids, ts,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1, 1)",
                (owner, attr, value, json.dumps(sources)),
            )
        m005_profile_attribute_prefixes(conn)
    active = {p.attribute: p for p in mem.profile()}
    assert sorted(active) == ["age", "goals", "name"]
    assert active["name"].value == "Caroline" and active["name"].source_page_ids == [1, 7, 9]
    assert active["name"].evidence_count == 3
    assert active["goals"].value == "adopt" and active["goals"].source_page_ids == [2]
    history = [p for p in mem.profile(history=True) if p.superseded_by is not None]
    assert sorted((p.attribute, p.value) for p in history) == [
        ("goals", "run a marathon"),
        ("name", "Caroline"),
        ("name", "caroline!"),
    ]


def test_migration_starts_each_id_floor_at_the_highest_id(mem: Memoryos) -> None:
    """A file made before ids were kept from reuse: the floor is its highest id, whatever
    was forgotten before (that cannot be known any more)."""
    from memoryos_cli.store.migrations import ID_FLOOR_TABLES, m008_ids_never_reused

    pages = [mem.add_memory(f"Exchange {i}.", "Ok.") for i in range(3)]
    fact = mem.remember("Has a cat")
    with mem.store.transaction() as conn:
        for table in ID_FLOOR_TABLES:
            conn.execute(f"DROP TRIGGER {table}_id_floor")
        conn.execute("DROP TABLE id_floors")
        m008_ids_never_reused(conn)
        floors = dict(conn.execute("SELECT tbl, last_id FROM id_floors").fetchall())
    assert floors == {"pages": pages[-1], "segments": 0, "profile_items": 0, "knowledge": fact}
    mem.forget(f"p{pages[-1]}")
    assert mem.add_memory("Later.", "Ok.") == pages[-1] + 1


def test_attributes_in_any_script_are_kept_apart(mem: Memoryos) -> None:
    """`profile set 饮食 素食` then `profile set 城市 北京`: both were "note", so the city
    replaced the diet; "régime" became "r_gime"."""
    for attribute, value in [("饮食", "素食"), ("城市", "北京"), ("Régime", "végétarien"),
                             ("User's City", "Oslo"), ("!!!", "x")]:  # fmt: skip
        mem.set_profile(attribute, value)
    assert {(p.attribute, p.value) for p in mem.profile()} == {
        ("饮食", "素食"), ("城市", "北京"), ("régime", "végétarien"), ("city", "Oslo"),
        ("note", "x"),
    }  # fmt: skip
