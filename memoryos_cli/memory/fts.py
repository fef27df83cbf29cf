"""FTS5 MATCH expressions built from a user's text: its words quoted, so no syntax leaks in."""

from __future__ import annotations

from memoryos_cli.memory.keywords import content_words, is_content_word
from memoryos_cli.words import tokens


def fts_query(text: str, limit: int = 32) -> str:
    """An FTS5 MATCH expression: content words OR-ed, each quoted so no syntax leaks in."""
    words = list(dict.fromkeys(content_words(text)))[:limit]
    if not words:
        words = list(dict.fromkeys(t for t in tokens(text) if len(t) > 1))[:limit]
    return " OR ".join(_quoted(w) for w in words)


def _quoted(term: str) -> str:
    """An FTS5 string: no syntax of the user's text leaks into the MATCH expression."""
    return '"' + term.replace('"', "") + '"'


def phrase_query(text: str, limit: int = 16) -> str:
    """An FTS5 MATCH expression of the content words next to each other in `text`, each pair
    as a phrase ("a dance class with friends" -> "dance class"): OR-ed, quoted as in
    `fts_query`. Empty when no two content words touch."""
    words = tokens(text)
    pairs = [
        f"{a} {b}"
        for a, b in zip(words, words[1:], strict=False)
        if is_content_word(a) and is_content_word(b)
    ]
    return " OR ".join(_quoted(p) for p in list(dict.fromkeys(pairs))[:limit])
