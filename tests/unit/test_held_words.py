"""`HeldWords`: how far a banned reply may be shown, and from where a word is taken back
(the same on real llama.cpp: tests/integration/test_llama.py)."""

from __future__ import annotations

import pytest

from memoryos_cli.llm.held_words import HeldWords

BANNED = frozenset({"peanut", "peanuts", "shellfish", "egg", "eggs", "gluten"})


def taken_back(texts: list[str], headed_at: int | None = None) -> int | None:
    """Feed `texts` in order: the token the reply is first taken back to, or None."""
    held = HeldWords(BANNED)
    for at, text in enumerate(texts):
        back = held.add(text, headed_for_ban=at == headed_at)
        if back is not None:
            return back
    return None


def settled(texts: list[str]) -> int:
    held = HeldWords(BANNED)
    for text in texts:
        assert held.add(text) is None
    return held.settled


def test_a_word_is_settled_once_the_next_one_begins() -> None:
    held = HeldWords(BANNED)
    settled = []
    for text in ["Hel", "lo", " world", "."]:
        assert held.add(text) is None
        settled.append(held.settled)
    assert settled == [0, 0, 2, 4]


def test_a_word_heading_for_a_ban_is_taken_back_from_its_first_token() -> None:
    # "Pe" + "an", then "ut" was the likeliest and banned: "uty" ("Peanuty") is taken back
    assert taken_back(["1", ".", " **", "Pe", "an", "uty"], headed_at=5) == 3


def test_heading_for_a_ban_between_words_takes_nothing_back() -> None:
    assert taken_back(["Sure", ",", " "], headed_at=2) is None


def test_two_words_that_make_a_banned_one_are_taken_back_together() -> None:
    # "Shell Fish Risotto": "Shell" begins "shellfish", so it is held until "Fish" ends
    assert settled(["**", "Shell", " Fish"]) == 1
    assert taken_back(["**", "Shell", " Fish", " Ris"]) == 1


def test_a_held_half_is_shown_when_the_next_word_does_not_join_it() -> None:
    assert settled(["Shell", " out", " the"]) == 2


def test_a_half_ended_by_punctuation_is_not_held() -> None:
    assert settled(["Shell", ".", " Then"]) == 2


def test_a_line_begins_a_word_of_its_own() -> None:
    assert settled(["pe", "\n", "Ch"]) == 2  # "pe" ended at the newline; "Ch" is being written


def test_taken_back_tokens_are_forgotten() -> None:
    held = HeldWords(BANNED)
    for text in ["Try", " Pe", "an"]:
        held.add(text)
    assert held.add("uty", headed_for_ban=True) == 1
    held.back_to(1)
    assert held.texts == ["Try"] and held.settled == 0  # "Try" is being written again
    held.add(" Almond")
    assert held.settled == 1


@pytest.mark.parametrize(
    ("texts", "back"),
    [
        # a banned word is taken back from its first token once it ends
        (["Try", " egg", " curry"], 1),
        (["Try", " Pe", "an", "ut", "."], 1),
        (["Try", " egg", "s", " or"], 1),
        # a word that only begins with one is not
        (["Try", " egg", "plant", " curry"], None),
        (["Try", " egg", "less", " cake"], None),
        # a token that holds the whole word and what follows it
        (["Try", " egg", ","], 1),
        (["Try", " egg,", " then"], 1),
        # "free" joined to it says it is left out; any other word joined to it does not
        (["Buy", " gluten", "-free", " bread"], None),
        (["Buy", " gluten", "-", "free", " bread"], None),
        (["Buy", " gluten", "-free,", " bread"], None),
        (["Buy", " egg", "-fried", " rice"], 1),
        (["Buy", " egg", "-", " and"], 1),
    ],
)
def test_where_a_banned_word_ends_it_is_taken_back(texts: list[str], back: int | None) -> None:
    assert taken_back(texts) == back


def test_a_reply_that_ends_on_a_banned_word_takes_it_back() -> None:
    held = HeldWords(BANNED)
    for text in ["Try", " scrambled", " egg"]:
        assert held.add(text) is None
    assert held.settled == 2
    assert held.end() == 2 and held.found == "egg"


def test_a_reply_that_ends_on_a_held_joined_word_takes_it_back() -> None:
    held = HeldWords(BANNED)
    for text in ["Buy", " gluten", "-"]:
        assert held.add(text) is None
    assert held.settled == 1  # "gluten-" is held until the joined word ends
    assert held.end() == 1
