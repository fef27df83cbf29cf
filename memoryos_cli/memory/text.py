"""Model-free text signals: tokens, keywords, Jaccard overlap, FTS query building."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "let's",
        "like",
        "me",
        "more",
        "most",
        "mustn't",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "really",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "wasn't",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "why",
        "why's",
        "will",
        "with",
        "won't",
        "would",
        "wouldn't",
        "yeah",
        "yes",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "oh",
        "ok",
        "okay",
        "hey",
        "hi",
        "hello",
        "thanks",
        "thank",
        "sure",
        "well",
        "know",
        "think",
        "going",
        "one",
        "want",
        "wow",
        "great",
        "good",
        "lot",
        "lots",
        "much",
        "many",
        "thing",
        "things",
        "way",
        "something",
        "anything",
        "everything",
        "even",
        "still",
        "maybe",
        "actually",
        "pretty",
        "kind",
        "sounds",
        "sound",
        "glad",
        "awesome",
        "cool",
        "amazing",
        "definitely",
        "totally",
        "absolutely",
        "love",
        "loved",
    ]
)


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (letters and digits, keeping inner apostrophes)."""
    return [m.group(0).lower().replace("’", "'") for m in WORD.finditer(text)]


def content_words(text: str) -> list[str]:
    return [t for t in tokens(text) if len(t) > 2 and t not in STOPWORDS and not t.isdigit()]


def keywords(text: str, limit: int = 12) -> list[str]:
    """The most telling words of `text`, without a model.

    Frequency of content words, with a boost for capitalized words that are not sentence
    starts (names of people, places and things are the strongest recall keys).
    """
    counts: Counter[str] = Counter(content_words(text))
    for match in re.finditer(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,})", text):
        word = match.group(1).lower()
        if word in counts:
            counts[word] += 2
    return [w for w, _ in counts.most_common(limit)]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def fts_query(text: str, limit: int = 32) -> str:
    """An FTS5 MATCH expression: content words OR-ed, each quoted so no syntax leaks in."""
    words = list(dict.fromkeys(content_words(text)))[:limit]
    if not words:
        words = list(dict.fromkeys(t for t in tokens(text) if len(t) > 1))[:limit]
    return " OR ".join('"' + w.replace('"', "") + '"' for w in words)


def page_text(user_input: str, agent_response: str) -> str:
    """How a page is embedded and shown to models: both sides of the exchange."""
    return f"User: {user_input}\nAssistant: {agent_response}"
