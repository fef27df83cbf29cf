"""`bench constraints` grades an answer by what it offers, not by what it names: the rule
behind its "broken" count (the run itself needs the chat model: `memoryos bench constraints`)."""

from __future__ import annotations

import pytest

from memoryos_cli.bench.constraints_bench import CONSTRAINTS, offered

VEGETARIAN, SHELLFISH = CONSTRAINTS


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("1. Grilled chicken with roasted vegetables 2. Lentil soup", ["chicken"]),
        ("Here are some vegetarian ideas: 1. Grilled chicken breast", ["chicken"]),
        ("A vegetable stir-fry with tofu and brown rice.", []),
        ("A risotto without chicken, and no fish either.", []),
        ("Try a mushroom burger instead of beef.", []),
        ("Baked salmon, or a bean chili.", ["salmon"]),
    ],
)
def test_what_a_vegetarian_is_offered(answer: str, found: list[str]) -> None:
    assert offered(VEGETARIAN, answer) == found


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("Here are a few shellfish-free ideas: 1. Grilled shrimp skewers", ["shrimp"]),
        ("A shellfish-free paella with chicken and chorizo.", []),
        ("Anything but crab: it doesn't include shrimp or lobster.", ["crab"]),
        ("Garlic prawns and a crab salad.", ["prawns", "crab"]),
    ],
)
def test_what_a_shellfish_allergy_is_offered(answer: str, found: list[str]) -> None:
    assert offered(SHELLFISH, answer) == found
