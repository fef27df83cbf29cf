"""The separate asks of one message: "What should I cook for Lena? Remember my allergy."

Ranked as one text, a message's longer or rarer ask decides what is recalled and a side
ask is lost: the Lena pages fill the prompt and the allergy, said weeks ago, is not
recalled ("allergy" and "allergic" share no stem, and the question-answer judge reads a
constraint as noise). Recall therefore also ranks each ask on its own
(`retrieve.recall`). A message of one sentence, or of many (a paste), stays one text.
"""

from __future__ import annotations

import re

from memoryos_cli.memory.support import stems

# A sentence ends at . ! or ? before a capital, a digit or a quote.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
# "Dr. Seuss" is one sentence.
ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "st", "jr", "sr", "prof", "vs", "mt", "no"})
# More sentences than this is a paste or a story, not a few asks: ranked as one text.
MOST_SENTENCES = 4
# An ask names at least two things ("my allergy" and "remember"); "Any tips?" or "Why?"
# alone would rank pages by chance and lift them as high as the message's best page.
CONTENT_WORDS = 2


def sentences(text: str) -> list[str]:
    """`text` cut into sentences, an abbreviation's period not counted as an end."""
    out: list[str] = []
    for piece in SENTENCE_END.split(text.strip()):
        last = re.search(r"(\w+)\.$", out[-1]) if out else None
        if last and last.group(1).lower() in ABBREVIATIONS:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [s for s in out if s]


def asks(message: str) -> list[str]:
    """The sentences of `message` that each ask or say something of their own, when
    there are two or more of them in a message of at most MOST_SENTENCES; [] otherwise
    (the message is ranked as one text)."""
    parts = sentences(message)
    if len(parts) > MOST_SENTENCES:
        return []
    found = [p for p in parts if len(stems(p)) >= CONTENT_WORDS]
    return found if len(found) > 1 else []


def asks_no_question(message: str) -> bool:
    """Whether `message` asks no question: it tells something ("I'm vegetarian.", "Fig is
    sick.") or asks for something ("Tell me a joke."), not "Can you plan my week?"."""
    return "?" not in message
