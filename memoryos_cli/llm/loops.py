"""An answer that starts over: at temperature 0 a small model can repeat a list until the
token limit. Asked "Any idea what I could cook when Jonas comes?", Qwen 1.5B wrote seven
dinner ideas, then the last four again, and again, for the whole 384 tokens (a real chat,
`make chat`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# A line counts when it says something, outside code: "return False", "}" and "for i in
# range(n):" repeat in good code.
MIN_WORDS = 4
FENCE = "```"
# "4. Grilled zucchini" and "9. Grilled zucchini" are the same line said again, and so are
# SmolLM2's "- 4. Baked Bran with Roasted Garlic" and "- 5. Baked Bran with Roasted Garlic".
LIST_MARK = re.compile(r"^\s*(?:(?:[-*•]|\d+[.)])\s*)*")


def said_as_a_line(line: str) -> str:
    """A line as its words, whatever its list mark and case."""
    return " ".join(LIST_MARK.sub("", line).lower().split())


def until_it_repeats(pieces: Iterable[str]) -> Iterator[str]:
    """`pieces` as they come, up to the first line of MIN_WORDS words or more that the
    answer has already said; the model's stream is then closed, so it stops."""
    seen: set[str] = set()
    line = ""
    in_code = False
    try:
        for piece in pieces:
            yield piece
            line += piece
            *ended, line = line.split("\n")
            for said in ended:
                if said.lstrip().startswith(FENCE):
                    in_code = not in_code
                said = said_as_a_line(said)
                if in_code or len(said.split()) < MIN_WORDS:
                    continue
                if said in seen:
                    return
                seen.add(said)
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # llama.cpp stops generating and the model's lock is let go
