"""Model-free text signals: tokens, keywords, Jaccard overlap, FTS query building."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from memoryos_cli.words import tokens

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


def is_content_word(token: str) -> bool:
    return len(token) > 2 and token not in STOPWORDS and not token.isdigit()


def content_words(text: str) -> list[str]:
    return [t for t in tokens(text) if is_content_word(t)]


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


# "Caroline: Hey Mel!": a line that opens with a speaker's name (an imported chat's turn,
# or a small model's fact written as a chat line).
SPEAKER_TAG = re.compile(r"^\s*[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)?:\s")


def page_text(user_input: str, agent_response: str) -> str:
    """How a page is embedded and shown to models: both sides of the exchange."""
    return f"User: {user_input}\nAssistant: {agent_response}"


MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_FULL_MONTH = (
    r"(" + "|".join(n for n in MONTHS if len(n) > 4 or n in ("may", "june", "july")) + r")"
)
_YEAR = r"((?:19|20)\d\d)"
# Most specific first; a span taken by one pattern is not read again by a later one.
DATE_PATTERNS = [
    (re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I), ("d", "m", "y")),
    (re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I), ("m", "d", "y")),
    (re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b"), ("y", "m", "d")),
    (re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I), ("m", "y")),
    # a month alone only in full and after a preposition ("in June"), never "on Jan's"
    (re.compile(rf"\b(?:in|during|since|of)\s+{_FULL_MONTH}\b(?!['’\s]*\d)", re.I), ("m",)),
    (re.compile(rf"\b(?:in|during|since|of)\s+{_YEAR}\b", re.I), ("y",)),
]


@dataclass(frozen=True)
class DateCue:
    """A calendar date, month or year named in a text; None where it names none."""

    year: int | None = None
    month: int | None = None
    day: int | None = None

    def matches(self, ts: float, zone: dt.tzinfo) -> bool:
        """Whether an instant falls on this date (or in this month or year) in `zone`."""
        when = dt.datetime.fromtimestamp(ts, zone)
        return (
            (self.year is None or when.year == self.year)
            and (self.month is None or when.month == self.month)
            and (self.day is None or when.day == self.day)
        )


def date_cues(text: str) -> list[DateCue]:
    """Absolute dates a query names ("on October 13, 2023", "in June", "in 2022").

    Relative ones ("last week") are left out: they count from when something was said,
    which a question does not tell. A month named without a year matches it in any year.
    """
    cues: list[DateCue] = []
    taken: list[tuple[int, int]] = []
    for pattern, fields in DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            parts = dict(zip(fields, match.groups(), strict=True))
            month = parts.get("m")
            number = None if month is None else MONTHS.get(month.lower())
            if month is not None and number is None:
                number = int(month) if month.isdigit() and 1 <= int(month) <= 12 else None
                if number is None:
                    continue
            day = int(parts["d"]) if "d" in parts else None
            if day is not None and not 1 <= day <= 31:
                continue
            taken.append((start, end))
            cues.append(DateCue(int(parts["y"]) if "y" in parts else None, number, day))
    return list(dict.fromkeys(cues))


# -- support: is a written claim grounded in the text it came from? --------------------

STEM = 5  # "painting" meets "painted", "hikes" meets "hiking": crude, no model, no data
TIME_WORDS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "yesterday",
        "today",
        "tomorrow",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "ago",
        "last",
        "next",
        "user",
        "assistant",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:STEM]


def stems(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    """Content-word stems of `text`: no stopwords, numbers, dates, or words in `ignore`."""
    words = re.findall(r"[a-z]+", text.lower())
    return {
        _stem(w)
        for w in words
        if len(w) > 2 and w not in STOPWORDS and w not in TIME_WORDS and w not in ignore
    }


def support(claim: str, source: str, ignore: frozenset[str] = frozenset()) -> float:
    """Share of the claim's content words found in `source` (1.0 when it has none).

    Dates are left out, so a date the writer computed ("on 7 May 2023" from "yesterday")
    never counts against it."""
    wanted = stems(claim, ignore)
    return len(wanted & stems(source)) / len(wanted) if wanted else 1.0
