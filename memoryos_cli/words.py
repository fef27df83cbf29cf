"""Word tokens: the one tokenizer of keyword recall and of the hashing test embedder."""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (letters and digits, keeping inner apostrophes)."""
    return [m.group(0).lower().replace("’", "'") for m in WORD.finditer(text)]
