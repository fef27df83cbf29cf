"""What the user's diet and allergies keep out of an answer: the foods each trait rules out,
which of them the prompt itself names, and that the chat's answer is asked to avoid the rest
(real SQLite, scripted model; the ban itself in llama.cpp: tests/integration/test_llama.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory.records import ProfileItem
from memoryos_cli.memory.ruled_out import ruled_out, to_avoid


def trait(attribute: str, value: str) -> ProfileItem:
    return ProfileItem(1, attribute, value, 1, [], 0.0, 0.0)


@pytest.mark.parametrize(
    ("attribute", "value", "banned", "allowed"),
    [
        ("diet", "vegetarian", {"chicken", "salmon", "shrimp"}, {"mozzarella", "egg", "tofu"}),
        ("diet", "vegan", {"chicken", "salmon", "mozzarella", "eggs"}, {"tofu"}),
        ("diet", "pescatarian", {"chicken", "bacon"}, {"salmon", "shrimp"}),
        ("allergies", "shellfish", {"shrimp", "lobster"}, {"salmon", "chicken"}),
        ("allergies", "peanuts, shellfish", {"peanut", "shrimp"}, {"almonds", "salmon"}),
        ("allergies", "tree nuts", {"almonds", "cashews", "peanut"}, {"shrimp"}),
        ("food_intolerances", "lactose", {"mozzarella", "ricotta"}, {"eggs"}),
        ("health", "allergic to eggs", {"egg", "omelette"}, {"chicken"}),
        ("health", "coeliac", {"wheat", "barley"}, {"chicken"}),
        ("allergies", "shrimp and almonds", {"shrimp", "almonds"}, {"lobster", "walnuts"}),
        # traits that are not a diet or an allergy rule nothing out
        ("hobbies", "fishing, baking bread", set(), {"fish", "wheat"}),
        ("pets", "a cat named Salmon", set(), {"salmon"}),
        ("diet", "balanced, lots of vegetables", set(), {"chicken"}),
    ],
)
def test_what_a_trait_rules_out(
    attribute: str, value: str, banned: set[str], allowed: set[str]
) -> None:
    out = ruled_out([trait(attribute, value)])
    assert banned <= out
    assert not allowed & out
    assert bool(out) == bool(banned)


def test_the_words_that_say_the_constraint_stay_sayable() -> None:
    """ "You're allergic to shellfish", "no meat or seafood": kinds, never banned."""
    out = ruled_out([trait("diet", "vegan"), trait("allergies", "shellfish, tree nuts")])
    assert not {"meat", "seafood", "shellfish", "nuts", "dairy", "vegan"} & out


def test_what_the_prompt_names_is_allowed_again() -> None:
    vegetarian = [trait("diet", "vegetarian")]
    avoid = to_avoid(vegetarian, "User: My brother made chicken curry.\nWhat did he cook?")
    assert "chicken" not in avoid
    assert {"salmon", "beef"} <= set(avoid)
    assert avoid == sorted(avoid)
    assert to_avoid([], "Any dinner ideas?") == []


def test_the_profile_line_itself_does_not_lift_the_ban(tmp_path: Path) -> None:
    """ "allergies: shrimp" stands in the system message; shrimp stays banned."""
    llm = ScriptedLLM(default="A bean stew.")
    with Memoryos(data_storage_path=tmp_path, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.set_profile("allergies", "shrimp")
        mem.get_response("Any dinner ideas for tonight?")
        system = next(c for c in llm.calls if c["kind"] == "stream")["messages"][0]["content"]
    assert "allergies: shrimp" in system
    assert [c["avoid"] for c in llm.calls if c["kind"] == "stream"] == [["shrimp"]]


def test_the_chat_answers_a_vegetarian_without_the_foods_she_does_not_eat(
    tmp_path: Path,
) -> None:
    llm = ScriptedLLM(default="A lentil curry.")
    with Memoryos(data_storage_path=tmp_path, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.set_profile("diet", "vegetarian")
        assert mem.get_response("Any dinner ideas for tonight?") == "A lentil curry."
        asked = [c for c in llm.calls if c["kind"] == "stream"]
        assert {"chicken", "salmon", "shrimp"} <= set(asked[-1]["avoid"])
        # the profile line in the system message does not lift the ban; her own word does
        mem.get_response("Is chicken stock vegetarian?")
        asked = [c for c in llm.calls if c["kind"] == "stream"]
        assert "chicken" not in asked[-1]["avoid"] and "salmon" in asked[-1]["avoid"]


def test_no_constraint_no_ban(tmp_path: Path) -> None:
    """Without a diet the model is called as before (an LLM object may not know `avoid`)."""
    llm = ScriptedLLM(default="Pasta.")
    with Memoryos(data_storage_path=tmp_path, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.set_profile("hobbies", "fishing")
        mem.get_response("Any dinner ideas for tonight?")
    assert [c["avoid"] for c in llm.calls if c["kind"] == "stream"] == [[]]
