"""Word tokens: the one tokenizer of keyword recall and of the hashing test embedder."""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Where a sentence ends in a turn: after . ! or ? and a space. Crude on purpose: the prompt's
# focus on a long page and the consolidation rules read turns by it. `memory/asks.py` cuts a
# message into asks more carefully ("Dr. Seuss" is not two sentences there).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (letters and digits, keeping inner apostrophes)."""
    return [m.group(0).lower().replace("’", "'") for m in WORD.finditer(text)]
