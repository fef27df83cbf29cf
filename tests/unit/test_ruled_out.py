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
from memoryos_cli.memory.ruled_out import ruled_out, to_avoid, told_of_self


def trait(attribute: str, value: str) -> ProfileItem:
    return ProfileItem(1, attribute, value, 1, [], 0.0, 0.0)


@pytest.mark.parametrize(
    ("attribute", "value", "banned", "allowed"),
    [
        ("diet", "vegetarian", {"chicken", "salmon", "shrimp"}, {"mozzarella", "egg", "tofu"}),
        ("diet", "vegetarian", {"turkey", "ham"}, {"eggplant"}),
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
    ruled = ruled_out([trait(attribute, value)])
    out = ruled.foods | ruled.names
    assert banned <= out
    assert not allowed & out
    assert bool(out) == bool(banned)


@pytest.mark.parametrize(
    ("message", "sayable", "banned"),
    [
        # asked for food: neither the foods nor their names ("a shellfish risotto")
        ("Any dinner ideas for tonight?", set(), {"shrimp", "shellfish", "seafood", "meat"}),
        ("Any vegan dinner ideas?", set(), {"egg", "meat", "chicken"}),
        # asked about the constraint: its names can be told, its foods are still banned
        ("What am I allergic to?", {"shellfish", "egg"}, {"shrimp", "chicken"}),
        ("What should I avoid at the party?", {"meat", "seafood"}, {"lobster", "omelette"}),
        # a food the message names is the user's own word
        ("Is chicken stock vegan?", {"chicken"}, {"beef", "meat"}),
        # the country is sayable when the message names it, the bird still banned otherwise
        ("What should I eat in Turkey?", {"turkey"}, {"ham", "chicken"}),
        ("Leftover ideas after the holidays?", set(), {"turkey", "ham"}),
    ],
)
def test_what_an_answer_may_say(message: str, sayable: set[str], banned: set[str]) -> None:
    profile = [trait("diet", "vegan"), trait("allergies", "shellfish")]
    avoid = set(to_avoid(profile, message))
    assert banned <= avoid
    assert not sayable & avoid
    # the constraint's own label is never banned, whatever is asked
    assert not {"vegan", "allergic", "allergies"} & avoid


def test_no_constraint_nothing_to_avoid() -> None:
    assert to_avoid([trait("hobbies", "fishing")], "Any dinner ideas?") == []
    assert to_avoid([], "Any dinner ideas?") == []


def test_a_recalled_memory_does_not_lift_the_ban(tmp_path: Path) -> None:
    """The page that told the diet ("no meat at the party") sits among the recent turns;
    lifted by it, the ban let "Grilled meat and vegetables" through (bench constraints)."""
    told = "I've been vegetarian for ten years, so no meat or fish at the party."
    llm = ScriptedLLM(default="A lentil curry.")
    with Memoryos(data_storage_path=tmp_path, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.add_memory(told, "Noted.")
        mem.set_profile("diet", "vegetarian")
        mem.get_response("Any dinner ideas for tonight?")
        (call,) = [c for c in llm.calls if c["kind"] == "stream"]
    assert "no meat or fish" in "".join(m["content"] for m in call["messages"])
    assert {"meat", "fish", "chicken"} <= set(call["avoid"])


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


@pytest.mark.parametrize(
    ("fact", "theirs"),
    [
        ("I am allergic to peanuts", True),  # `/remember`, in the user's voice
        ("I'm vegetarian since May.", True),
        ("Noor is allergic to shellfish.", True),  # of the user by name
        ("The user is vegan.", True),
        ("My daughter is allergic to shrimp.", False),  # someone else's
        ("Lena is allergic to shellfish.", False),
        ("I love peanuts.", False),  # no diet or allergy said
        ("Noorah is allergic to eggs.", False),  # another name that begins the same
        # the user's own turns, which no analysis may have read yet
        ("I'm trying to eat less meat, so I've gone pescatarian since October.", True),
        ("I don't eat meat, I'm vegetarian.", True),
        ("I'm not vegetarian anymore, I eat everything.", False),  # over
        ("I used to be vegan.", False),
        ("I don't think I'm allergic to nuts.", False),
    ],
)
def test_which_facts_tell_the_users_own_diet(fact: str, theirs: bool) -> None:
    assert told_of_self([fact], "Noor Haddad") == ([fact] if theirs else [])


def test_a_remembered_allergy_keeps_its_foods_out_of_the_answer(tmp_path: Path) -> None:
    """`/remember I am allergic to peanuts` stored a fact, not a profile line, and the next
    snack answer was made with nothing banned (found by trying it)."""
    llm = ScriptedLLM(default="Some fruit.")
    with Memoryos(data_storage_path=tmp_path, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.remember("My brother is vegan.")
        mem.get_response("Can you suggest a snack for my hike?")
        mem.remember("I am allergic to peanuts")
        mem.get_response("Can you suggest a snack for my hike?")
    asked = [c["avoid"] for c in llm.calls if c["kind"] == "stream"]
    assert asked == [[], ["peanut", "peanuts"]]


def test_a_diet_said_in_this_chat_bans_its_foods_from_that_message_on(tmp_path: Path) -> None:
    """Before any analysis stores it: told in a recent turn (a dinner idea two turns after
    "I've gone pescatarian" offered grilled chicken), or in the message itself."""
    llm = ScriptedLLM(default="A lentil curry.")
    with Memoryos(data_storage_path=tmp_path, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.get_response("I'm vegetarian. Any dinner ideas?")
        mem.get_response("And for lunch tomorrow?")
        mem.get_response("I'm not vegetarian anymore, I eat everything now.")
        mem.get_response("Hi, I'm Noor. I'm vegan and I have a son.")  # after a greeting
        mem.get_response("Any dinner ideas for him and me?")
    asked = [set(c["avoid"]) for c in llm.calls if c["kind"] == "stream"]
    assert {"chicken", "salmon"} <= asked[0] and {"chicken", "salmon"} <= asked[1]
    assert asked[2] == set()  # the latest word on it holds
    assert {"meat", "chicken", "mozzarella"} <= asked[4]
