"""Word tokens: the one tokenizer of keyword recall and of the hashing test embedder."""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Where a sentence ends in a turn: after . ! or ? and a space. Crude on purpose: the prompt's
# focus on a long page and the consolidation rules read turns by it. `memory/asks.py` cuts a
# message into asks more carefully ("Dr. Seuss" is not two sentences there).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (letters and digits, keeping inner apostrophes)."""
    return [m.group(0).lower().replace("’", "'") for m in WORD.finditer(text)]


def holds(text: str, needle: str) -> bool:
    """Whether `text` contains `needle`, case folded in any script and in one Unicode form
    (how `forget --match` matches: SQLite's LIKE folds ASCII only, and "MÜNCHEN" missed
    "München"; "É" typed as one character missed "É" stored as E and an accent, which
    `search` found)."""
    return folded(needle) in folded(text)


def folded(text: str) -> str:
    """`text` case folded and composed (NFKC), so equal-looking text compares equal."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
