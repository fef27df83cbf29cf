"""Holding back the word being written, so a reply can take it back before anyone sees it.

A banned word is caught once it is written whole: a word is known only where it ends
("egg" + "plant" is no egg), and a model stopped mid-word misspells the word it is set on
(kept from "ut" after "Pean", Qwen 1.5B wrote "Peanuty Butter"; SmolLM2, kept from
"chicken", wrote "Chick-a-loose"). So the reply goes back to where the word began and
chooses differently there, which works only if that word has not been shown yet: a banned
reply is streamed a word behind. `HeldWords` reads each token's text and says how many
tokens are settled (safe to show) and, when a word must go, from which token the reply is
taken back (`llm.llama.LlamaCppLLM._taking_back`, with `WordBan` banning at that place).

Two words written as one banned word ("Shell Fish" for shellfish) are caught the same way:
a finished word that begins a banned one ("shell") stays held until the next word ends. A
banned word joined to "free" ("gluten-free", "egg-free") says what the answer leaves out,
which is what a person with the diet wants to read: it is held until the joined word ends,
and kept.
"""

from __future__ import annotations

import re

LEADING_LETTERS = re.compile(r"[A-Za-z]*")
TRAILING_LETTERS = re.compile(r"[A-Za-z]*\Z")  # not $: it matches before a final "\n"
LETTERS = re.compile(r"[A-Za-z]+")
# What may stand between the two halves of a banned word written as two ("Shell Fish").
JOINERS = (" ", "-")
# A finished word shorter than this is not held as the first half of a banned one ("a").
SHORTEST_HALF = 3
# Joined to a banned word by "-", these words say it is left out ("gluten-free").
LEFT_OUT = frozenset({"free", "less"})


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
        self.joined_start: int | None = None  # a banned word + "-": kept if "free" follows
        self.found: str | None = None  # the banned word the last take-back was for

    @property
    def settled(self) -> int:
        """How many tokens, from the reply's start, can no longer be taken back."""
        held = (self.word_start, self.half_start, self.joined_start)
        return min((at for at in held if at is not None), default=len(self.texts))

    def add(self, text: str, *, headed_for_ban: bool = False) -> int | None:
        """Read the next token's text. Returns the token from which the reply must be taken
        back, or None. `headed_for_ban`: the model's likeliest token here would have
        finished a banned word, so the word being written is misspelling one."""
        at = len(self.texts)
        self.texts.append(text)
        self.found = None
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
        elif self.joined_start is not None:  # "egg-" and no word joined to it
            backs.append(self.joined_start)
            self.joined_start = None
        trail = TRAILING_LETTERS.search(rest).group(0)  # type: ignore[union-attr]
        inner = rest[: len(rest) - len(trail)]
        for word in LETTERS.finditer(inner):  # words begun and ended in this token (" egg,")
            backs.extend(self._finished(word.group(0), at, inner[word.end() :]))
        if trail:
            self.word, self.word_start = trail, at
        return min(backs, default=None)

    def end(self) -> int | None:
        """The reply ends here: the token to take back from if it ends in a banned word."""
        self.found = None
        backs = []
        if self.word and self.word_start is not None:
            backs = self._finished(self.word, self.word_start, "")
        elif self.joined_start is not None:
            backs = [self.joined_start]
        self.word, self.word_start, self.joined_start = "", None, None
        return min(backs, default=None)

    def back_to(self, token: int) -> None:
        """Forget every token from `token` on, as if they were never read."""
        texts = self.texts[:token]
        self._start()
        for text in texts:
            self.add(text)

    def _finished(self, word: str, start: int, after: str) -> list[int]:
        """A word ended, `after` following it: where to take back from (its start, or a
        held half's, or a held joined word's) if it is banned or ends a banned one."""
        lowered = word.lower()
        backs = []
        if self.joined_start is not None:
            if lowered not in LEFT_OUT:
                backs.append(self.joined_start)
            self.joined_start = None
            if not backs:
                return []
        if self.half_start is not None:
            if self.half + lowered in self.banned:
                backs.append(self.half_start)
                self.found = self.half + lowered
            self.half, self.half_start = "", None
        if lowered in self.banned:
            joined = re.match(r"-([A-Za-z]*)", after)
            if joined is None:
                backs.append(start)
                self.found = lowered
            elif joined.group(0) == after:  # "-" or "-fr": the joined word is being written
                self.joined_start = start
            elif joined.group(1).lower() not in LEFT_OUT:
                backs.append(start)
                self.found = lowered
        elif lowered in self.halves and after.startswith(JOINERS):
            self.half, self.half_start = lowered, start
        return backs
