"""`WordBan` over a small made-up vocabulary: which tokens it bans after which letters
(the same processor on real llama.cpp: tests/integration/test_llama.py)."""

from __future__ import annotations

import numpy as np
import pytest

from memoryos_cli.llm.llama import MAX_TAKEN_BACK, WordBan

VOCAB = [
    "**", " ", "\n", ",", "-based", "Ch", "icken", "ICKEN", "ocolate", " chicken", " Chicken",
    " chick", "pe", "as", "Pean", "ut", "uts", "o", " peanut", "cl", "AMS",
    "ams", "ap", " cod", " code", " codes", "fish", " fishing", "ing", "cod", "e", "Chicken",
]  # fmt: skip


class Vocab:
    """tokenize / detokenize as llama-cpp-python's, over VOCAB (longest match first)."""

    def tokenize(self, text: bytes, add_bos: bool = False, special: bool = False) -> list[int]:
        rest, ids = text.decode(), []
        while rest:
            piece = max((v for v in VOCAB if rest.startswith(v)), key=len, default=None)
            if piece is None:
                return [-1, -1]  # not in the vocabulary: more than one token
            ids.append(VOCAB.index(piece))
            rest = rest[len(piece) :]
        return ids

    def detokenize(self, ids: list[int]) -> bytes:
        return "".join(VOCAB[i] for i in ids).encode()


def banned_after(words: set[str], written: str, armed: bool = True) -> set[str]:
    """The tokens banned after `written`, with every word armed (as once the reply's
    take-backs are spent) or none (as a reply begins)."""
    ban = WordBan(Vocab(), frozenset(words))
    if armed:
        ban.arm()
    scores = np.zeros(len(VOCAB), dtype=np.single)
    out = ban(np.array(Vocab().tokenize(written.encode())), scores)
    return {VOCAB[i] for i in range(len(VOCAB)) if out[i] == -np.inf}


@pytest.mark.parametrize(
    ("words", "written", "banned", "allowed"),
    [
        # the word's own token, anywhere, in each case
        ({"chicken"}, "**", {" chicken", " Chicken"}, {" chick", "Ch"}),
        # the pieces that would finish it from the letters written so far
        ({"chicken"}, "**Ch", {"icken", "ICKEN", " chicken"}, {"ocolate", "pe"}),
        ({"clams"}, "**cl", {"AMS", "ams"}, {"ap"}),
        ({"peanut"}, "Pean", {"ut", "uts"}, {"o"}),
        # a line's first word is a word of its own, not the end of the last line's
        ({"chicken"}, "pe\n", {"Chicken"}, {"ocolate"}),
        # a short word is banned whole, not where it begins another word
        ({"cod"}, "**", {" cod", "cod"}, {" code", " codes"}),
        ({"fish"}, "**", {"fish"}, {" fishing"}),
    ],
)
def test_what_is_banned_after_what(
    words: set[str], written: str, banned: set[str], allowed: set[str]
) -> None:
    out = banned_after(words, written)
    assert banned <= out
    assert not allowed & out


def test_a_reply_begins_with_nothing_banned_so_a_banned_word_may_begin_another() -> None:
    # "egg" + "plant": the word is judged where it ends (`HeldWords`), not where it begins
    assert banned_after({"chicken"}, "**Ch", armed=False) == set()


def test_a_word_taken_back_is_banned_token_by_token_from_then_on() -> None:
    ban = WordBan(Vocab(), frozenset({"chicken", "peanut"}))
    ban.take_back(3, VOCAB.index(" chicken"), "Chickens")
    assert ban.armed == {"chicken"}
    scores = ban(np.array(Vocab().tokenize(b"**Ch")), np.zeros(len(VOCAB), dtype=np.single))
    out = {VOCAB[i] for i in range(len(VOCAB)) if scores[i] == -np.inf}
    assert {"icken", " chicken"} <= out and " peanut" not in out


def test_every_word_is_armed_once_the_take_backs_are_spent() -> None:
    ban = WordBan(Vocab(), frozenset({"chicken", "peanut"}))
    for at in range(MAX_TAKEN_BACK):
        ban.take_back(at, 0)
    assert ban.armed == {"chicken", "peanut"}
