"""The reply model refuses a fact that only names its subject, and turns a subject
equated with its own attribute into the attribute's value (issue: "Maria is Maria's
profession." stored as a fact)."""

from __future__ import annotations

import json

import pytest

from memoryos_cli.memory.analysis import Analysis, read_reply


def reply(user_facts: list[str], profile: list[str]) -> Analysis:
    """What `read_reply` keeps of a reply on page 1 holding these items."""
    written = {"user_facts": user_facts, "assistant_facts": [], "profile": profile}
    return read_reply(json.dumps(written | {"summary": "s"}), {1})


def stored(text: str) -> list[str]:
    """The user facts kept from a reply holding `text` and one good fact."""
    kept = reply([f"1: {text}", "1: Maria teaches kickboxing on Tuesdays."], []).user_facts
    return [t for t, _ in kept][:-1]


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        # refused: subject and attribute names only
        ("Maria is Maria's name.", []),
        ("Maria is Maria's profession.", []),
        ("John's hobbies are John's hobbies.", []),
        ("Maria's job is her job", []),
        ("The user is the user.", []),
        # a subject equated with its own attribute: the value, said as what it is
        (
            "Maria is Maria's hobbies of kickboxing and aerial yoga.",
            ["Maria's hobbies: kickboxing and aerial yoga."],
        ),
        ("John is John's profession: a nurse.", ["John's profession: a nurse."]),
        ("Maria is Maria's job is teaching", ["Maria's job: teaching"]),
        # kept as said: they tell something
        ("Maria is a nurse.", ["Maria is a nurse."]),
        ("Maria's name is short for Mariana.", ["Maria's name is short for Mariana."]),
        ("John works from home on Fridays.", ["John works from home on Fridays."]),
        (
            "John found an emotional ride with the group.",
            ["John found an emotional ride with the group."],
        ),
        ("Maria is Maria.", []),
        # refused: the subject is its own object (Qwen 1.5B, LoCoMo conv-47 and conv-48)
        ("James recommends James to try out RPGs like that or MOBAs.", []),
        ("The assistant recommends the assistant to show Jolene one of their snakes.", []),
        ("Maria told Maria about the trip.", []),
        ("Maria Lopes thanked Maria Lopes.", []),
        # kept: someone else is the object, or the name is part of another
        ("James recommends John to try out RPGs.", ["James recommends John to try out RPGs."]),
        (
            "Maria told Maria's sister about the trip.",
            ["Maria told Maria's sister about the trip."],
        ),
        ("Jon met Jon Bon Jovi at a concert.", ["Jon met Jon Bon Jovi at a concert."]),
        ("The assistant told the user about a vet.", ["The assistant told the user about a vet."]),
        ("Maria taught herself to paint.", ["Maria taught herself to paint."]),
        ("People help people in Maria's town.", ["People help people in Maria's town."]),
        ("Maria is Maria's sister's best friend.", ["Maria is Maria's sister's best friend."]),
        ("Maria's family lives in Porto.", ["Maria's family lives in Porto."]),
    ],
)
def test_a_fact_must_tell_more_than_its_subject(said: str, kept: list[str]) -> None:
    assert stored(said) == kept


def stored_profile(value: str) -> list[tuple[str, str]]:
    """The profile kept from a reply holding `city = value` and one good item."""
    kept = reply([], [f"1: city = {value}", "1: job = nurse"]).profile
    return [(a, v) for a, v, _ in kept][:-1]


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        # refused: the value says the attribute is not known (Qwen 1.5B, LoCoMo conv-26)
        ("unknown (since moving from home country)", False),
        ("Unknown", False),
        ("not mentioned", False),
        ("Not specified.", False),
        ("none", False),
        ("N/A", False),
        ("?", False),
        # refused: the value names a side of the chat (Qwen 1.5B, "name = User", bench chat)
        ("User", False),
        ("the user", False),
        ("Assistant.", False),
        ("me", False),
        # kept: they say what it is
        ("Porto", True),
        ("Unknown Pleasures, Manchester", True),
        ("unknown, maybe Porto", False),
        ("None other than Lisbon", True),
        ("Nantes", True),
        ("not far from Porto", True),
        ("unknownville", True),
        ("User Experience Lab, Porto", True),
        ("Isle of Man", True),
    ],
)
def test_a_profile_value_must_say_what_it_is(value: str, kept: bool) -> None:
    assert stored_profile(value) == ([("city", value)] if kept else [])
