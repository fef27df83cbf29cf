"""The user's message in the third person, as facts name the user, for the judge."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from memoryos_cli.memory.person import (
    THE_USER,
    as_the_fact_says,
    asks_of_self,
    denies_knowing,
    in_first_person,
    name_told,
    says_of_self,
    third_person,
    user_forms,
)


@pytest.mark.parametrize(
    ("said", "as_said_of_noor"),
    [
        ("Where do I live now?", "Where do Noor live now?"),
        ("Remember my allergy.", "Remember Noor's allergy."),
        ("I'm tired; I've cooked, I'd rest, I'll sleep.",
         "Noor is tired; Noor has cooked, Noor would rest, Noor will sleep."),
        ("I’m off. Tell me about myself. Is it mine? My turn.",
         "Noor is off. Tell Noor about Noor. Is it Noor's? Noor's turn."),
        ("What is Caroline's job?", "What is Caroline's job?"),  # no first person: as it was
        ("Is it time for some mime?", "Is it time for some mime?"),  # whole words only
    ],
)  # fmt: skip
def test_third_person(said: str, as_said_of_noor: str) -> None:
    assert third_person(said, "Noor") == as_said_of_noor
    assert in_first_person(said) is (said != as_said_of_noor)


def test_the_user_is_named_as_facts_name_them() -> None:
    assert third_person("Remember my allergy.") == "Remember the user's allergy."
    assert user_forms([]) == [THE_USER]
    named = [SimpleNamespace(attribute="city", value="York"),
             SimpleNamespace(attribute="name", value="Noor")]  # fmt: skip
    assert user_forms(named) == ["Noor", THE_USER]


@pytest.mark.parametrize(
    ("fact", "form"),
    [
        ("Noor moved from Leeds to York.", "Where do Noor live now?"),
        ("The user moved from Leeds to York.", "Where do the user live now?"),  # before the name
        ("Idris turns 7 next Tuesday.", "Where do I live now?"),  # not naming the user
        ("Alice quit her job at the bank.", "Where do I live now?"),  # a name not stored
        ("Noori likes tea.", "Where do I live now?"),  # whole names only
        ("I take the 7:40 train to work.", "Where do I live now?"),  # stored by `remember`
    ],
)
def test_the_message_is_read_as_each_fact_names_the_user(fact: str, form: str) -> None:
    assert as_the_fact_says("Where do I live now?", fact, ["Noor", THE_USER]) == form
    assert as_the_fact_says("Where is York?", fact, ["Noor", THE_USER]) == "Where is York?"
    assert as_the_fact_says("Where do I live now?", fact, []) == "Where do I live now?"


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("Hi, I'm Tom and I live in Leeds.", "Tom"),
        ("Hello! I am Priya, nice to meet you.", "Priya"),
        ("hey there, I’m Sam", "Sam"),
        ("By the way, my name is Noor.", "Noor"),
        ("My name's Ana.", "Ana"),
        ("Please call me Tommy from now on.", "Tommy"),
        # what the speaker is, not what they are called
        ("I'm Italian and I love pasta.", ""),
        ("Honestly I am Vegan these days.", ""),
        ("What is my name?", ""),
        ("My name is on the list.", ""),
        ("Hi, I'm tired.", ""),
    ],
)
def test_a_name_given_in_so_many_words(said: str, name: str) -> None:
    assert name_told(said) == name


@pytest.mark.parametrize(
    ("answer", "denies"),
    [
        # what Qwen 1.5B answered users who had introduced themselves
        ("I'm sorry, but I don't have enough information to know who you are.", True),
        ("I'm sorry, but I don't have any information about you.", True),
        ("As an AI, I don't have memories, so I can't provide information about you.", True),
        ("I'm sorry, but I can’t remember your name.", True),
        ("I don't know much about you, Sam. I just remember our chats.", True),
        # something else the model does not know, or a denial past the opening
        ("I don't have any information about your location.", False),
        ("Glasgow is lovely! I don't know your name yet, though.", False),
        ("Yes, I know who you are, Sam.", False),
        ("I don't know you're Tom.", False),
    ],
)
def test_an_answer_that_says_it_does_not_know_the_user(answer: str, denies: bool) -> None:
    assert denies_knowing(answer) is denies


@pytest.mark.parametrize(
    ("question", "of_self"),
    [
        ("Do you know who I am?", True),
        ("What do you know about me?", True),
        ("What do you remember about me?", True),
        ("Tell me about myself.", True),
        ("Who am I?", True),
        ("What have you learned about me so far?", True),
        # a question that names what it asks: recall answers it
        ("Where do I live?", False),
        ("What do you know about my sister?", False),
        ("What is my name?", False),
        # not about the user
        ("What do you know about Caroline?", False),
        ("What do you know?", False),
        ("Any dinner ideas?", False),
    ],
)
def test_a_question_about_the_user_themself(question: str, of_self: bool) -> None:
    assert asks_of_self(question) is of_self


@pytest.mark.parametrize(
    ("turn", "tells"),
    [
        ("Hello, I'm Sam. Last March I moved to Glasgow.", True),
        ("I have two kids.", True),
        ("Hi! Do you know who I am?", False),  # only asks
        ("Do you know who I am?", False),
        ("Is it going to rain today.", False),  # not of the user
    ],
)
def test_a_turn_that_tells_of_the_user(turn: str, tells: bool) -> None:
    assert says_of_self(turn) is tells
