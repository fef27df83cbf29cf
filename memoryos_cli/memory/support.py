"""Support: is a written claim grounded in the text it came from? Stems of content words,
crude on purpose: no model, no data."""

from __future__ import annotations

import re

from memoryos_cli.memory.dates import TIME_WORDS
from memoryos_cli.memory.keywords import STOPWORDS

STEM = 5  # "painting" meets "painted", "hikes" meets "hiking": crude, no model, no data
# The two sides of every page: who a claim concerns or is said to, never what it claims.
ROLES = frozenset({"user", "assistant"})
NOT_CLAIMS = STOPWORDS | TIME_WORDS | ROLES


def _stem(word: str) -> str:
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:STEM]


def stems(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    """Content-word stems of `text`: no stopwords, numbers, dates, roles, or words in
    `ignore`."""
    words = re.findall(r"[a-z]+", text.lower())
    return {_stem(w) for w in words if len(w) > 2 and w not in NOT_CLAIMS and w not in ignore}


def support(claim: str, source: str, ignore: frozenset[str] = frozenset()) -> float:
    """Share of the claim's content words found in `source` (1.0 when it has none).

    Dates are left out, so a date the writer computed ("on 7 May 2023" from "yesterday")
    never counts against it."""
    wanted = stems(claim, ignore)
    return len(wanted & stems(source)) / len(wanted) if wanted else 1.0
