"""A new user's first message, answered by the default model through `memoryos chat`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import chat_env, memoryos_command

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
    env = chat_env(home, MEMORYOS_EXIT_CONSOLIDATION_JOBS="0", MEMORYOS_MAX_ANSWER_TOKENS="40")
    chat = subprocess.run(
        [memoryos_command(), "--model", str(default_model_path), "chat"],
        input=said + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert chat.returncode == 0, chat.stderr
    answer = chat.stdout.lower()
    assert answer.strip() and not any(d in answer for d in DENIALS), chat.stdout


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
    env = chat_env(home, MEMORYOS_EXIT_CONSOLIDATION_JOBS="0", MEMORYOS_MAX_ANSWER_TOKENS="40")
    chat = subprocess.run(
        [memoryos_command(), "--model", str(default_model_path), "chat"],
        input="\n".join(said) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert chat.returncode == 0, chat.stderr
    answers = [line for line in chat.stdout.splitlines() if line.startswith("memoryos: ")]
    assert len(answers) == 3, chat.stdout
    assert "tom" in answers[2].lower() and "i am memoryos" not in answers[2].lower(), answers
