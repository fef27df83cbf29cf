"""A new user's first message, answered by the default model through `memoryos chat`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import piped_chat

from memoryos_cli.api import Memoryos
from memoryos_cli.memory.ruled_out import FOODS

# no analysis at exit, short answers: only the answers are read
QUICK = {"MEMORYOS_EXIT_CONSOLIDATION_JOBS": "0", "MEMORYOS_MAX_ANSWER_TOKENS": "40"}
DENIALS = ("don't have any information", "do not have any information", "enough information")


@pytest.mark.parametrize(
    "said",
    [
        "Hi, I'm Tom and I live in Leeds. Yesterday I adopted a cat named Pixel.",
        "Hi, I'm Tom and I live in Leeds. Tomorrow I have a dentist appointment at 9.",
    ],
)
def test_a_new_user_who_introduces_themself_gets_a_reply_not_a_denial(
    home: Path, default_model_path: Path, said: str
) -> None:
    """With "name: not told yet" in its profile, Qwen 1.5B read "I'm Tom" as a question
    about memory and answered "I'm sorry, but I don't have any information about Tom or
    Pixel." The line is now left out once the user gives a name (`person.gives_a_name`)."""
    answers = piped_chat(home, default_model_path, [said], **QUICK)
    assert len(answers) == 1, answers
    assert not any(d in answers[0].lower() for d in DENIALS), answers


def test_a_name_given_in_this_chat_is_known_before_any_analysis(
    home: Path, default_model_path: Path
) -> None:
    """Until an analysis stores it, the name the user just gave stands in the profile. With
    the line "name: not told yet" left out and no name, the third answer here was "I am
    MemoryOS, a private assistant...", and the second "I adopted Pixel on the day you
    mentioned"."""
    said = [
        "Hi, I'm Tom and I live in Leeds. Yesterday I adopted a cat named Pixel.",
        "When did I adopt Pixel?",
        "Do you know who I am?",
    ]
    answers = piped_chat(home, default_model_path, said, **QUICK)
    assert len(answers) == 3, answers
    assert "tom" in answers[2].lower() and "i am memoryos" not in answers[2].lower(), answers


def test_an_answer_that_said_it_did_not_know_the_user_is_not_said_again(
    home: Path, default_model_path: Path
) -> None:
    """What `make chat` answered a new user, stored as the chat stores it; then the same
    question in a new run of `memoryos chat`. With the denial among the recent turns it was
    said again word for word; the page keeps it, the prompt does not."""
    answered = {"answered_by": "qwen2.5-coder-1.5b"}
    with Memoryos(llm_model="none") as mem:
        mem.add_memory(
            "Hello, I'm Sam. Last March I moved from Bristol to Glasgow for a job at the "
            "university.",
            "That's great, Sam! Glasgow is a wonderful city. How are you settling in?",
            meta_data=answered,
        )
        denial = "I'm sorry, but I don't have enough information to know who you are."
        mem.add_memory("Do you know who I am?", denial, meta_data=answered)
    answers = piped_chat(home, default_model_path, ["Do you know who I am?"], **QUICK)
    assert len(answers) == 1, answers
    assert "sam" in answers[0].lower(), answers
    assert not any(d in answers[0].lower() for d in DENIALS), answers


def test_a_question_about_the_user_is_answered_from_what_they_just_told(
    home: Path, default_model_path: Path
) -> None:
    """`make chat` on a fresh home: the introduction, then "Do you know who I am?" and
    "What do you know about me?" were answered "I'm sorry, but I don't have enough
    information to know who you are." and "I'm sorry, but I don't have any information
    about you.", with "name: Sam" in the system message. Asked under "What you know about
    me:", over the user's own words, the model answers from them."""
    said = [
        "Hello, I'm Sam. Last March I moved from Bristol to Glasgow for a job at the university.",
        "Do you know who I am?",
        "What do you know about me?",
    ]
    answers = piped_chat(home, default_model_path, said, **QUICK)
    assert len(answers) == 3, answers
    for answer in answers[1:]:
        assert "sam" in answer.lower(), answers
        assert not any(d in answer.lower() for d in DENIALS), answers


@pytest.mark.parametrize("said", ["I'm vegetarian.", "I'm 34 and I live in Oslo."])
def test_a_first_message_that_tells_gets_a_reply_not_a_denial(
    home: Path, default_model_path: Path, said: str
) -> None:
    """Answered "I'm sorry, but I don't have any information about the user's name." and
    "... about you." (a statement read as a question about memory), until a system turn
    before a message that asks no question said to reply to what the user tells."""
    answers = piped_chat(home, default_model_path, [said], **QUICK)
    assert len(answers) == 1, answers
    assert not any(d in answers[0].lower() for d in DENIALS), answers


def test_a_diet_told_in_this_chat_keeps_its_foods_out_before_any_analysis(
    home: Path, default_model_path: Path
) -> None:
    """No analysis has read the first turn, so the profile holds no diet yet: the fourth of
    the dinner ideas was "Grilled Chicken with Avocado and Rice" (found by trying it)."""
    said = [
        "I'm trying to eat less meat, so I've gone pescatarian since October.",
        "Any idea what I could cook for dinner tonight?",
    ]
    settings = {"MEMORYOS_EXIT_CONSOLIDATION_JOBS": "0", "MEMORYOS_MAX_ANSWER_TOKENS": "200"}
    answers = piped_chat(home, default_model_path, said, **settings)
    assert len(answers) == 2, answers
    words = set(re.findall(r"[a-z]+", answers[1].lower()))
    assert "salmon" in words, answers[1]  # the model's own: fish is the diet's
    assert not words & set(FOODS["meat"]), answers[1]
