"""Each consolidation filter on a table of cases it must keep and cases it must drop: a true
fact a filter drops is lost for good, a false one it keeps crowds the recalled facts."""

from __future__ import annotations

import pytest

from memoryos_cli.memory import consolidate
from memoryos_cli.memory.analysis import Analysis

Pages = list[tuple[int, float, str, str]]
THANKS = [
    (1, 0.0, "Thanks for the encouragement, Gina! My son Tom starts at MIT.", "Anytime, Jon!")
]
CLINIC = [(1, 0.0, "Dr. Patel fixed my knee last month, I thanked him.", "Glad it went well.")]


def kept_facts(drop: object, text: str, *args: object) -> bool:
    analysis = Analysis(user_facts=[(text, [1])])
    drop(analysis, *args)  # type: ignore[operator]
    return bool(analysis.user_facts)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Note: the user is allergic to shellfish.", True),  # a label, not a speaker
        ("Ana is reading 'Your Brain on Food'.", True),  # "Your" inside a title
        ('Ana\'s favourite song is "You Are My Sunshine".', True),
        ("I find my painting class with Lea inspiring.", True),  # the user's own voice
        ("Melanie: I'm glad the painting class was inspiring.", False),
        ("Caroline: Hey Mel!", False),
        ("The user found your painting class inspiring.", False),
        ("Assistant: glad you found the painting class.", False),
    ],
)
def test_chat_lines(text: str, kept: bool) -> None:
    assert kept_facts(consolidate.drop_chat_lines, text) is kept


@pytest.mark.parametrize(
    ("text", "pages", "kept"),
    [
        ("The user thanked Dr. Patel for the knee surgery.", CLINIC, True),
        ("Ana encouraged Tom, her son, to apply to MIT.", THANKS, True),
        ("Jon thanks his sister Emma for the running shoes.", THANKS, True),
        ("Jon expressed joy in dancing.", THANKS, True),
        ("Jon thanked Gina for the encouragement.", THANKS, False),  # "Thanks, Gina!"
        ("Gina encouraged Jon to keep going.", THANKS, False),  # "Anytime, Jon!"
        ("The user thanked the assistant for the tip.", CLINIC, False),
        ("Jon expressed gratitude for the encouragement.", THANKS, False),
    ],
)
def test_courtesies(text: str, pages: Pages, kept: bool) -> None:
    assert kept_facts(consolidate.drop_courtesies, text, pages) is kept


@pytest.mark.parametrize(
    ("value", "kept"),
    [("Jon", True), ("Gina", False), ("Mel", False)],
)
def test_addressed_names(value: str, kept: bool) -> None:
    pages = [(1, 0.0, "Hey Gina! I'm Jon. Thanks, Mel", "Hi Jon!")]
    analysis = Analysis(profile=[("name", value, [1])])
    consolidate.drop_addressed_names(analysis, pages)
    assert bool(analysis.profile) is kept


SUPPORT = [(1, 0.0, "I adopted a grey kitten called Miso.", "Cute!"), (2, 0.0, "Busy day.", "Ok.")]


@pytest.mark.parametrize(
    ("text", "cited", "kept"),
    [
        ("Jon adopted a grey kitten named Miso.", [1], True),
        ("Jon adopted a grey kitten named Miso.", [2], False),  # its page does not say it
        ("Jon adopted a golden retriever puppy.", [1], False),  # invented details
        ("Jon.", [1], False),  # only who it is about
    ],
)
def test_unsupported(text: str, cited: list[int], kept: bool) -> None:
    analysis = Analysis(user_facts=[(text, cited)])
    excerpts = " ".join(f"{u} {a}" for _, _, u, a in SUPPORT)
    consolidate.drop_unsupported(analysis, SUPPORT, excerpts, frozenset({"jon"}))
    assert bool(analysis.user_facts) is kept


@pytest.mark.parametrize(
    ("kind", "text", "kept"),
    [
        ("user", "The user ran the charity race on Saturday.", True),
        ("user", "The user went camping in the mountains with the kids.", False),
        ("assistant", "The assistant went camping in the mountains with the kids.", True),
        ("assistant", "The assistant ran the charity race.", False),
    ],
)
def test_misattributed(kind: str, text: str, kept: bool) -> None:
    pages = [(1, 0.0, "I ran the charity race on Saturday!", "We went camping in the mountains.")]
    analysis = Analysis(**{f"{kind}_facts": [(text, [1])]})  # type: ignore[arg-type]
    consolidate.drop_misattributed(analysis, pages)
    assert bool(getattr(analysis, f"{kind}_facts")) is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Ana adopted a cat named Luna.", True),
        ("Tom adopted a cat named Miso on 2 March 2021.", False),  # the prompt's example
        ("Lea recommended Ana a vet in Porto.", False),  # the example blended in
    ],
)
def test_copied_example(text: str, kept: bool) -> None:
    excerpts = "I adopted a cat named Luna. Lea is my friend and Ana is my name."
    assert kept_facts(consolidate.drop_copied_example, text, excerpts) is kept
