"""The user's diet shapes a food answer, through the chat's own prompt and the default model
(Qwen2.5-Coder-1.5B, greedy): with "diet: vegetarian" only in the system message's profile,
"Any dinner ideas for tonight?" got grilled chicken, baked salmon and steak; repeated
beside the question (`memory/reminders.py`) it is followed. The scenario is the one
`memoryos bench reminders` measures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.bench.reminders_bench import CONSTRAINTS, first_session
from memoryos_cli.config import load_settings

pytestmark = pytest.mark.integration

VEGETARIAN = CONSTRAINTS[0]


def test_a_vegetarians_dinner_ideas_hold_no_meat(
    home: Path, default_model_path: Path, default_embedder: object
) -> None:
    settings = replace(
        load_settings(home), model=str(default_model_path), timezone="UTC", max_answer_tokens=120
    )
    with Memoryos(settings=settings, embedder=default_embedder) as mem:  # type: ignore[arg-type]
        first_session(mem, VEGETARIAN)
        answer = mem.get_response("Any dinner ideas for tonight?")
        built = mem.last_prompt
    assert built is not None and built.reminders == ["diet: vegetarian"]
    assert "Keep in mind about me: diet: vegetarian." in built.messages[-1]["content"]
    assert answer and not VEGETARIAN.ruled_out.findall(answer), answer
