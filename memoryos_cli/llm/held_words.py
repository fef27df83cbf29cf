"""Holding back the word being written, so a reply can take it back before anyone sees it.

`llm.llama.WordBan` stops a banned word token by token, but a model set on the word then
misspells it: kept from "ut" after "Pean", Qwen 1.5B wrote "Peanuty Butter"; SmolLM2, kept
from "chicken", wrote "Chick-a-loose". The fix is to go back to where the word began and
choose differently there, which works only if that word has not been shown yet. So a
banned reply is streamed a word behind: `HeldWords` reads each token's text and says how
many tokens are settled (safe to show) and, when a word must go, from which token the
reply is taken back.

Two words written as one banned word ("Shell Fish" for shellfish) are caught the same way:
a finished word that begins a banned one ("shell") stays held until the next word ends.
"""

from __future__ import annotations

import re

LEADING_LETTERS = re.compile(r"[A-Za-z]*")
TRAILING_LETTERS = re.compile(r"[A-Za-z]*\Z")  # not $: it matches before a final "\n"
# What may stand between the two halves of a banned word written as two ("Shell Fish").
JOINERS = (" ", "-")
# A finished word shorter than this is not held as the first half of a banned one ("a").
SHORTEST_HALF = 3


class HeldWords:
    """Token texts in, reply order; `settled` tokens may be shown, the rest are held."""

    def __init__(self, banned: frozenset[str]) -> None:
        self.banned = frozenset(word.lower() for word in banned)
        self.halves = frozenset(
            word[:cut] for word in self.banned for cut in range(SHORTEST_HALF, len(word))
        )
        self._start()

    def _start(self) -> None:
        self.texts: list[str] = []
        self.word = ""  # the letters of the word being written
        self.word_start: int | None = None  # the token it began in
        self.half = ""  # a finished word that begins a banned one, held for the next
        self.half_start: int | None = None

    @property
    def settled(self) -> int:
        """How many tokens, from the reply's start, can no longer be taken back."""
        held = [at for at in (self.word_start, self.half_start) if at is not None]
        return min(held, default=len(self.texts))

    def add(self, text: str, *, headed_for_ban: bool = False) -> int | None:
        """Read the next token's text. Returns the token from which the reply must be taken
        back, or None. `headed_for_ban`: the model's likeliest token here would have
        finished a banned word, so the word being written is misspelling one."""
        at = len(self.texts)
        self.texts.append(text)
        backs = [self.word_start] if headed_for_ban and self.word_start is not None else []
        head = LEADING_LETTERS.match(text).group(0)  # type: ignore[union-attr]
        rest = text[len(head) :]
        if not rest:
            if head and self.word_start is None:
                self.word_start = at
            self.word += head
            return min(backs, default=None)
        if self.word or head:
            start = self.word_start if self.word_start is not None else at
            backs.extend(self._finished(self.word + head, start, rest))
            self.word, self.word_start = "", None
        trail = TRAILING_LETTERS.search(rest).group(0)  # type: ignore[union-attr]
        if trail:
            self.word, self.word_start = trail, at
        return min(backs, default=None)

    def back_to(self, token: int) -> None:
        """Forget every token from `token` on, as if they were never read."""
        texts = self.texts[:token]
        self._start()
        for text in texts:
            self.add(text)

    def _finished(self, word: str, start: int, after: str) -> list[int]:
        """A word ended: where to take back from if it ends a banned word begun by the held
        half (none, or that half's start)."""
        lowered = word.lower()
        backs = []
        if self.half_start is not None:
            if self.half + lowered in self.banned:
                backs.append(self.half_start)
            self.half, self.half_start = "", None
        if lowered in self.halves and after.startswith(JOINERS):
            self.half, self.half_start = lowered, start
        return backs
