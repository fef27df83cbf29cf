"""An answer stops where it says a line again (`llm.loops`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memoryos_cli.llm.loops import until_it_repeats

LOOP = (
    "Some ideas include:\n- Grilled salmon with steamed vegetables\n- Baked tofu with rice\n"
    "- Grilled zucchini with a side of quinoa\n- Grilled tofu with vegetables\n"
    "- Grilled zucchini with a side of quinoa\n- Grilled tofu with vegetables\n"
)
CODE = (
    "```python\ndef f(n):\n    for i in range(n):\n        print(i)\n    for i in range(n):\n"
    "        print(i)\n    return False\n```\nThat prints the range twice for you.\n"
)


def pieces_of(text: str) -> Iterator[str]:
    """A model's stream: a few characters a piece, lines ending inside pieces."""
    for start in range(0, len(text), 7):
        yield text[start : start + 7]


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        # the last four dinner ideas again (Qwen 1.5B, `make chat`): cut at the first again
        (LOOP, LOOP[: LOOP.rindex("- Grilled tofu")]),
        # numbered again: the same line
        ("1. Baked fish with salsa\n2. Pasta with tomato sauce\n3. Baked fish with salsa\n4. x",
         "1. Baked fish with salsa\n2. Pasta with tomato sauce\n3. Baked fish with salsa\n"),
        ("- 1. Baked bran\n- 2. Baked bran with roasted garlic\n- 3. Baked bran with roasted "
         "garlic\n- 4. Baked bran with roasted garlic\n",  # SmolLM2-135M, to its token limit
         "- 1. Baked bran\n- 2. Baked bran with roasted garlic\n- 3. Baked bran with roasted "
         "garlic\n"),
        (CODE, CODE),  # code repeats lines; short lines too
        ("Yes.\nYes.\nYes.\nNo.", "Yes.\nYes.\nYes.\nNo."),
    ],
)  # fmt: skip
def test_an_answer_stops_where_it_says_a_line_again(answer: str, kept: str) -> None:
    said = "".join(until_it_repeats(pieces_of(answer)))
    assert said.startswith(kept) and len(said) < len(kept) + 7  # to the piece that ends it
    if kept != answer:
        assert len(said) < len(answer)


def test_the_models_stream_is_closed_when_the_answer_stops() -> None:
    closed = []

    def stream() -> Iterator[str]:
        try:
            yield from pieces_of(LOOP)
        finally:
            closed.append(True)

    model = stream()  # held, as a caller may: only closing it stops the model at once
    assert "".join(until_it_repeats(model)) != LOOP
    assert closed == [True]
