"""bge-small's cosines crowd near the top (unrelated pages ~0.7): the thresholds written on
MiniLM's 0-to-1 scale must read them through the catalogue's floor, or every page joins one
segment and different facts merge as duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.catalog import calibrated, cosine_floor
from memoryos_cli.embed import Embedder

COOKING = [
    "I baked sourdough bread this morning, the crust came out perfect.",
    "My lasagna recipe needs more basil and a longer bake.",
    "I roasted vegetables with cumin and smoked paprika tonight.",
    "Tried making fresh pasta from scratch, flour everywhere.",
    "The risotto needed another ladle of stock before it got creamy.",
    "I'm marinating chicken in yogurt and garlic for tomorrow's dinner.",
]
CAR = [
    "The mechanic said my car's brake pads are worn down to the metal.",
    "I replaced the car battery myself, the old one had corroded terminals.",
    "My car's check engine light came on again on the highway.",
    "Changed the engine oil and the oil filter on the car this weekend.",
    "The car's tyres need rotating, the front ones are bald.",
    "The garage quoted me for a new clutch and gearbox service.",
]


@pytest.fixture
def mem(home: Path, default_embedder: Embedder) -> Iterator[Memoryos]:
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=default_embedder) as m:
        yield m


def test_pages_on_two_topics_fall_into_separate_segments(mem: Memoryos) -> None:
    assert cosine_floor("bge-small-en-v1.5") > 0.5 and cosine_floor("hashing-test") == 0.0
    for text in [*COOKING, *CAR, *(f"Small talk number {i}." for i in range(7))]:
        mem.add_memory(text, "I see.")
    segments: dict[int | None, set[str]] = {}
    for page in mem.pages():
        if page.user_input in COOKING:
            segments.setdefault(page.segment_id, set()).add("cooking")
        elif page.user_input in CAR:
            segments.setdefault(page.segment_id, set()).add("car")
    assert None not in segments  # all twelve left short-term
    assert all(len(topics) == 1 for topics in segments.values()), segments


def test_different_facts_are_not_merged_as_duplicates(mem: Memoryos) -> None:
    first = mem.remember("Maria has a dog named Rex.")
    second = mem.remember("Maria has a cat named Tom.")
    again = mem.remember("Maria has a dog named Rex")
    assert first != second and again == first


def test_the_scale_puts_the_floor_at_zero_and_keeps_one_at_one() -> None:
    assert calibrated(0.65, 0.65) == 0.0 and calibrated(1.0, 0.65) == 1.0
    assert calibrated(0.3, 0.0) == 0.3
