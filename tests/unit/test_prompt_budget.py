"""The whole chat prompt is held to the model's context window with room for the answer:
long text is shortened in the prompt (and says so), never in storage."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm import Message, approx_tokens, prompts
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory.context import FACT_MARGIN as M
from memoryos_cli.memory.context import NO_NAME_LINE, message_tokens, shorten
from memoryos_cli.memory.records import Page, RecallItem

# About 36 KB, as pasted by the user who found the crash.
LONG = " ".join(
    f"Line {i}: the ferry to Vigo leaves at {i % 24}:15 from pier {i}." for i in range(720)
)


def open_mem(home: Path, context: int) -> tuple[Memoryos, ScriptedLLM]:
    llm = ScriptedLLM(context_size=context)
    return Memoryos("alice", "assistant", home, llm_model=llm, embedder=HashingEmbedder()), llm


def asked(llm: ScriptedLLM) -> list[Message]:
    return [c for c in llm.calls if c["kind"] == "stream"][-1]["messages"]


def fits(mem: Memoryos, messages: list[Message], context: int) -> bool:
    return message_tokens(messages, approx_tokens) + mem.settings.max_answer_tokens <= context


def test_a_36_kb_page_among_recent_turns_is_shortened_in_the_prompt_only(home: Path) -> None:
    assert len(LONG) > 36_000
    mem, llm = open_mem(home, 4096)
    with mem:
        page = mem.add_memory(LONG, "ok")
        mem.get_response("Which pier was that again?")
        messages = asked(llm)
        assert fits(mem, messages, 4096)
        pasted = messages[1]["content"]
        assert "[shortened]" in pasted
        assert pasted.startswith(LONG[:300]) and pasted.endswith(LONG[-300:])
        assert mem.pages([page])[0].user_input == LONG


def test_a_36_kb_question_is_shortened_in_the_prompt_and_stored_whole(home: Path) -> None:
    mem, llm = open_mem(home, 4096)
    with mem:
        mem.add_memory("I live in Porto.", "Nice city.")
        mem.get_response(LONG)
        messages = asked(llm)
        assert fits(mem, messages, 4096)
        question = messages[-1]["content"]
        assert "[shortened]" in question
        assert LONG[:300] in question and question.endswith(LONG[-300:])
        assert messages[1]["content"] == "I live in Porto."  # short turns stay whole
        assert mem.pages()[-1].user_input == LONG


def test_the_warmed_prefix_is_the_start_of_the_prompt_when_turns_are_cut(home: Path) -> None:
    mem, llm = open_mem(home, 2048)
    with mem:
        for i in range(6):
            mem.add_memory(LONG[: 3000 * (i + 1)], f"answer {i} " * 100)
        prefix = mem.stable_prefix()
        mem.get_response("Summarize what I sent you.")
        messages = asked(llm)
        assert fits(mem, messages, 2048)
        assert messages[: len(prefix)] == prefix  # what idle time evaluated is reused
        assert any("[shortened]" in m["content"] for m in prefix)


def test_shorten_keeps_both_ends_within_the_limit() -> None:
    for limit in (5, 40, 400, 4000):
        cut = shorten(LONG, limit, approx_tokens)
        assert approx_tokens(cut) <= max(limit, approx_tokens("… [shortened] …"))
        assert "[shortened]" in cut
    cut = shorten(LONG, 400, approx_tokens)
    assert cut.startswith(LONG[:500]) and cut.endswith(LONG[-500:])
    assert shorten("short text", 400, approx_tokens) == "short text"


def test_pages_come_first_and_facts_fill_the_room_they_leave() -> None:
    from memoryos_cli.memory.context import Budget, build
    from memoryos_cli.memory.records import Page, Recall, RecallItem

    facts = [
        RecallItem(f"k{i}", "knowledge", f"Fact number {i} about the user.", 1.0 - i / 10, 0.5, 0)
        for i in range(6)
    ]
    pages = [
        RecallItem(
            f"p{i}",
            "mid",
            f"Page {i}: a longer exchange about the trip.",
            2.0 - i / 10,
            0.5,
            0,
            page=Page(i, "q", "a", 0.0, "mid", None, {}, [], False),
        )
        for i in range(1, 4)
    ]
    recall = Recall("q", [], pages, facts, [])
    built = build(
        "q",
        recall,
        [],
        assistant="a",
        budget=Budget(4096, 100, 60),
        count_tokens=lambda text: 13,
        zone=dt.UTC,
    )
    # Room for four lines: the three pages, best first, then the best fact.
    assert [i.ref for i in built.recalled] == ["p1", "p2", "p3", "k0"]


def judged(ref: str, relevance: float | None, *, page: bool) -> RecallItem:
    """A recalled page or fact whose fused score is 1.0 and judge's score `relevance`."""
    if not page:
        return RecallItem(ref, "knowledge", ref, 1.0, 0.5, 0, relevance=relevance)
    body = Page(int(ref[1:]), "q", "a", 0.0, "mid", None, {}, [], False)
    return RecallItem(ref, "mid", ref, 1.0, 0.5, 0, page=body, relevance=relevance)


@pytest.mark.parametrize(
    ("pages", "facts", "order"),
    [
        # a fact the judge puts above every page by the margin comes first
        ([("p1", 2.0), ("p2", 1.0)], [("kA", 2.5 + M)], ["kA", "p1", "p2"]),
        # between two pages: before the first page it beats by the margin
        ([("p1", 2.0), ("p2", 0.0)], [("kA", 1.0 + M)], ["p1", "kA", "p2"]),
        # beaten by every page: no fact at all
        ([("p1", 2.0), ("p2", 1.0)], [("kA", 0.5), ("kB", -3.0)], ["p1", "p2"]),
        # above the weakest page, but by less than the margin: the page keeps its place
        ([("p1", 2.0), ("p2", 1.0)], [("kA", 1.0 + M / 2)], ["p1", "p2"]),
        # exactly the margin above it does not beat it
        ([("p1", 2.0), ("p2", 1.0)], [("kA", 1.0 + M)], ["p1", "p2"]),
        # facts in the judge's order, not recall's
        ([("p1", 0.0)], [("kA", 1.0 + M), ("kB", 2.0 + M)], ["kB", "kA", "p1"]),
        # pages keep their own order (their score holds dates and context too)
        ([("p1", 0.0), ("p2", 5.0)], [("kA", 1.0 + M)], ["kA", "p1", "p2"]),
        # no judge: pages first, facts in the room they leave
        ([("p1", None), ("p2", None)], [("kA", None)], ["p1", "p2", "kA"]),
        # no page to compare with: the facts on the message's topic
        ([], [("kA", -1.0)], ["kA"]),
        ([], [("kA", 4.0), ("kB", -5.0), ("kC", -9.0), ("kD", -11.2)], ["kA", "kB"]),
    ],
)
def test_a_fact_enters_the_prompt_only_when_the_judge_puts_it_above_a_page(
    pages: list[tuple[str, float | None]],
    facts: list[tuple[str, float | None]],
    order: list[str],
) -> None:
    from memoryos_cli.memory.context import judged_order

    got = judged_order(
        [judged(r, v, page=True) for r, v in pages], [judged(r, v, page=False) for r, v in facts]
    )
    assert [i.ref for i in got] == order


def test_a_page_far_weaker_than_the_best_stays_out_of_the_prompt() -> None:
    from memoryos_cli.memory.context import Budget, build
    from memoryos_cli.memory.records import Page, Recall, RecallItem

    def page(pid: int, score: float) -> RecallItem:
        text = f"Page {pid} about the trip."
        return RecallItem(
            f"p{pid}", "mid", text, score, 0.5, 0, page=Page(pid, text, "ok", 0.0, "mid", None)
        )

    recall = Recall("q", [], [page(1, 2.0), page(2, 1.5), page(3, 1.2)], [], [])
    built = build("q", recall, [], assistant="a", budget=Budget(4096, 100, 300),
                  count_tokens=approx_tokens, zone=dt.UTC)  # fmt: skip
    # 1.5 is 75% of the best score and is shown; 1.2 (60%) only adds noise and prompt time.
    assert [i.ref for i in built.recalled] == ["p1", "p2"]


def test_a_page_too_long_for_the_room_left_shows_its_sentences_on_the_question() -> None:
    """Skipping it lost what it said; the sentences that share the question's words (and
    the one after each: the answer to a question follows it) fit where the page did not."""
    from memoryos_cli.memory.context import Budget, build
    from memoryos_cli.memory.records import Page, Recall, RecallItem

    filler = " ".join(f"We walked past shop number {i} and it rained." for i in range(12))
    long_user = f"Caroline: {filler} Did you see the ferry timetable? {filler}"
    long_agent = (
        f"Melanie: Caroline, the bakery was shut. {filler} The ferry to Vigo leaves at 9 from"
        f" pier 4. {filler}"
    )
    first = Page(1, "Caroline: the ferry was late today.", "Melanie: oh no", 0.0, "mid", None)
    second = Page(2, long_user, long_agent, 0.0, "mid", None)
    recall = Recall(
        "q",
        [],
        [
            RecallItem("p1", "mid", "ferry late", 2.0, 0.5, 0, page=first),
            RecallItem("p2", "mid", f"User: {long_user}\nAssistant: {long_agent}", 1.9, 0.5, 0,
                       page=second),
        ],
        [],
        [],
    )  # fmt: skip
    question = "When does the ferry leave, Caroline?"
    built = build(question, recall, [], assistant="a", budget=Budget(4096, 100, 120),
                  count_tokens=approx_tokens, zone=dt.UTC)  # fmt: skip
    assert [i.ref for i in built.recalled] == ["p1", "p2"]
    shown = built.messages[-1]["content"]
    assert "The ferry to Vigo leaves at 9 from pier 4." in shown
    assert "Did you see the ferry timetable?" in shown
    # "Caroline" opens every turn of hers: a speaker's name, not what the question is about.
    assert "bakery" not in shown
    assert built.recalled_tokens <= 120


DIARY = " ".join(f"Day {i}: we walked along the river and watched the boats." for i in range(60))
PASSPORT = [
    ("My passport expires in May 2027.", "I'll remind you."),
    ("I renewed my passport at the consulate in Porto.", "Good."),
    ("The passport photo had to be redone twice.", "Annoying!"),
]


def test_the_prefix_keeps_to_its_share_so_recall_and_a_long_question_fit(home: Path) -> None:
    """Recent turns far longer than the context are cut to the prefix's share, which leaves
    the recall budget and QUERY_SHARE of the prompt: the recalled pages and a question of
    about that share come through whole."""
    from memoryos_cli.memory.context import QUERY_SHARE

    mem, _ = open_mem(home, 2048)
    with mem:
        for i, (user, agent) in enumerate(PASSPORT):
            mem.add_memory(user, agent, timestamp=1_700_000_000 + 60 * i)
        for i in range(8):  # pushes the passport pages out of short-term and the window
            mem.add_memory(f"Chapter {i} of my diary. {DIARY}", f"What a trip, part {i}! " * 40)
        budget = mem.prompt_budget()
        share = int(budget.prompt * QUERY_SHARE)
        recent = [t for p in mem.recent_pages() for t in (p.user_input, p.agent_response)]
        assert sum(map(approx_tokens, recent)) > budget.prompt  # the turns must be cut
        errands = " ".join(f"Errand {i}: post office before the trip." for i in range(35))
        question = f"When does my passport expire? {errands}"
        assert share - 80 < approx_tokens(question) < share - 40
        built = mem.prepare(question)
        prefix = message_tokens(built.messages[:-1], approx_tokens)
        assert prefix <= budget.prompt - budget.recall - share
        assert "[shortened]" in built.messages[1]["content"]  # ... and they were
        assert built.messages[-1]["content"].endswith(question)  # the question is whole
        assert any("passport expires in May 2027" in i.text for i in built.recalled)


@pytest.mark.parametrize("budget_tokens", [300, 1000, 3000])
def test_prefix_messages_fit_their_budget_keeping_the_newest_turn(budget_tokens: int) -> None:
    from memoryos_cli.memory.context import prefix_messages
    from memoryos_cli.memory.records import Page, ProfileItem

    profile = [
        ProfileItem(i, f"interest {i}", f"{DIARY[:400]} {i}", 1, [], 0.0, 0.0) for i in range(40)
    ]
    recent = [Page(i, f"Chapter {i}. {DIARY}", f"Reply {i}. " * 200, 0.0, "short", None)
              for i in range(1, 9)]  # fmt: skip
    messages = prefix_messages("a", profile, recent, budget_tokens=budget_tokens,
                               count_tokens=approx_tokens)  # fmt: skip
    assert message_tokens(messages, approx_tokens) <= budget_tokens
    assert messages[0]["role"] == "system"
    assert messages[-1]["content"].startswith("Reply 8.")  # the newest exchange stays


def test_an_answer_denying_it_knows_the_user_leaves_the_turns_and_the_question_stays() -> None:
    from memoryos_cli.memory.context import prefix_messages
    from memoryos_cli.memory.pages import ANSWERED_BY
    from memoryos_cli.memory.records import Page

    ours = {ANSWERED_BY: "qwen"}
    denial = "I'm sorry, but I don't have any information about you."
    elsewhere = "I don't have any information about your location."
    recent = [
        Page(1, "Hi, I'm Priya, a nurse on night shifts.", "Hello!", 0.0, "short", None, ours),
        Page(2, "What do you know about me?", denial, 0.0, "short", None, ours),
        Page(3, "Where do I live?", elsewhere, 0.0, "short", None, ours),
        Page(4, "Caroline: Who am I to you?", f"Melanie: {denial}", 0.0, "short", None),  # imported
    ]
    turns = [(m["role"], m["content"]) for m in prefix_messages("a", [], recent)[1:]]
    assert ("user", "What do you know about me?") in turns
    assert ("assistant", denial) not in turns
    assert ("assistant", elsewhere) in turns
    assert turns[-1] == ("assistant", f"Melanie: {denial}")
    assert len(turns) == 7


def test_turns_cut_for_room_leave_by_whole_exchanges() -> None:
    """The oldest exchange leaves with both its turns, or its one turn: a prompt never
    opens its turns on an answer."""
    from memoryos_cli.memory.context import prefix_messages
    from memoryos_cli.memory.pages import ANSWERED_BY
    from memoryos_cli.memory.records import Page

    denial = "I'm sorry, but I don't have any information about you."
    recent = [Page(1, f"Chapter 1. {DIARY}", denial, 0.0, "short", None, {ANSWERED_BY: "q"})]
    recent += [Page(i, f"Chapter {i}. {DIARY}", f"Reply {i}. " * 200, 0.0, "short", None)
               for i in range(2, 9)]  # fmt: skip
    for budget_tokens in (300, 1000, 3000):
        messages = prefix_messages("a", [], recent, budget_tokens=budget_tokens,
                                   count_tokens=approx_tokens)  # fmt: skip
        assert messages[1]["role"] == "user", budget_tokens
        assert messages[-1]["content"].startswith("Reply 8."), budget_tokens


@pytest.mark.parametrize("with_judge", [True, False])
def test_a_fact_the_judge_prefers_takes_a_pages_room_and_adds_none(with_judge: bool) -> None:
    """With the judge, facts and pages together cost no more than the pages alone would:
    the fact goes first and the weakest page gives up its room. Without a judge, facts
    only fill the room the pages leave."""
    from memoryos_cli.memory.context import Budget, BuiltPrompt, build
    from memoryos_cli.memory.records import Recall

    def page(pid: int, score: float, relevance: float, text: str) -> RecallItem:
        body = Page(pid, text, "Noted.", 0.0, "mid", None)
        return RecallItem(f"p{pid}", "mid", text, score, 0.5, 0, page=body,
                          relevance=relevance if with_judge else None)  # fmt: skip

    pages = [
        page(1, 2.0, 2.0, "Mara: The ferry to Vigo leaves at 9 from pier 4. I will take it."),
        page(2, 1.9, 1.0, "Mara: We walked by the harbour. The ferry office was shut. It rained."),
    ]
    fact = RecallItem("k1", "knowledge", "Mara takes the 9 o'clock ferry to Vigo.", 1.0, 0.5, 0,
                      relevance=2.0 + 2 * M if with_judge else None)  # fmt: skip
    question = "When does my ferry leave?"

    def built(facts: list[RecallItem]) -> BuiltPrompt:
        recall = Recall(question, [], pages, facts, [])
        return build(question, recall, [], assistant="a", budget=Budget(4096, 100, 300),
                     count_tokens=approx_tokens, zone=dt.UTC)  # fmt: skip

    alone, both = built([]), built([fact])
    assert [i.ref for i in alone.recalled] == ["p1", "p2"]
    if with_judge:
        assert [i.ref for i in both.recalled][:2] == ["k1", "p1"]
        assert both.recalled_tokens <= alone.recalled_tokens
    else:
        assert [i.ref for i in both.recalled] == ["p1", "p2", "k1"]
        assert both.recalled_tokens > alone.recalled_tokens


def test_a_page_far_below_the_judges_best_is_left_out_unless_an_ask_needs_it() -> None:
    """Pages the judge puts more than PAGE_GAP under its best page cost tokens and answer
    nothing; an ask's own best page stays, however low (the judge reads a constraint as
    noise: "I'm allergic to shellfish..." at -9 for "Remember my allergy.")."""
    from memoryos_cli.memory.context import PAGE_GAP, within_reach

    def page(ref: str, relevance: float | None) -> RecallItem:
        body = Page(int(ref[1:]), ref, "Noted.", 0.0, "mid", None)
        return RecallItem(ref, "mid", ref, 1.0, 0.5, 0, page=body, relevance=relevance)

    items = [page("p1", 2.0), page("p2", 2.0 - PAGE_GAP), page("p3", 1.9 - PAGE_GAP),
             page("p4", None), page("p5", -9.0)]  # fmt: skip
    fact = RecallItem("k1", "knowledge", "A fact.", 1.0, 0.5, 0, relevance=-8.0)
    kept = within_reach([*items, fact], keep={"p5"})
    assert [i.ref for i in kept] == ["p1", "p2", "p4", "p5", "k1"]
    assert within_reach(items[3:4], keep=set()) == items[3:4]  # nothing judged: all stay
    # through the chat's prompt
    from memoryos_cli.memory.context import Budget, build
    from memoryos_cli.memory.records import Recall

    question = "When does my ferry leave?"
    recall = Recall(question, [], items[:3], [], [])
    built = build(question, recall, [], assistant="a", budget=Budget(4096, 100, 300),
                  count_tokens=approx_tokens, zone=dt.UTC)  # fmt: skip
    assert [i.ref for i in built.recalled] == ["p1", "p2"]


def test_a_profile_without_a_name_says_the_name_is_not_known(home: Path) -> None:
    """Asked "What is my name?" with no name stored, the 1.5B model answered "My name is
    MemoryOS.": the system message says the name is not told yet, through the chat's own
    prepare and in the warmed prefix alike; not once a name is stored, and not for a recall
    that leaves the long-term tier out (the bench's pages-only methods)."""
    mem, llm = open_mem(home, 4096)
    with mem:
        mem.add_memory("I like hiking.", "Nice!")
        system = mem.prepare("What is my name?").messages[0]["content"]
        assert f"- {NO_NAME_LINE}" in system
        assert mem.stable_prefix()[0]["content"] == system
        flat = replace(mem.retrieve("What is my name?"), long_term=False)
        assert (
            NO_NAME_LINE not in mem.prepare("What is my name?", recall=flat).messages[0]["content"]
        )
        mem.set_profile("name", "Noor")
        system = mem.prepare("What is my name?").messages[0]["content"]
        assert "- name: Noor" in system and NO_NAME_LINE not in system


def test_the_name_is_not_called_unknown_once_the_user_gives_it(home: Path) -> None:
    """Beside "name: not told yet", Qwen 1.5B answered "Hi, I'm Tom ... Yesterday I adopted
    a cat named Pixel." with "I'm sorry, but I don't have any information about Tom or
    Pixel.", and without it "Do you know who I am?" with "I am MemoryOS". Until an
    analysis stores the name, the one a recent turn gives stands in the profile; the
    message itself, or "I'm Italian", only leaves the line out; "my name" alone gives
    none."""
    mem, llm = open_mem(home, 4096)
    with mem:
        mem.add_memory("I like hiking.", "Nice!")
        assert NO_NAME_LINE in mem.prepare("What is my name?").messages[0]["content"]
        told = mem.prepare("Hi, I'm Tom and I live in Leeds.").messages[0]["content"]
        assert NO_NAME_LINE not in told and "name:" not in told  # the message: no line
        italian = mem.prepare("I'm Italian, by the way.").messages[0]["content"]
        assert NO_NAME_LINE not in italian and "name:" not in italian
        mem.add_memory("My name is Tom, by the way.", "Nice to meet you, Tom!")
        for system in (mem.prepare("Who am I?").messages[0], mem.stable_prefix()[0]):
            assert NO_NAME_LINE not in system["content"]
            assert "- name: Tom\n" in system["content"]
        mem.add_memory("Actually, call me Tommy.", "Sure, Tommy!")  # the latest name given
        assert "- name: Tommy\n" in mem.stable_prefix()[0]["content"]


def test_a_question_about_the_user_is_asked_over_what_they_told(home: Path) -> None:
    """Two turns after "Hello, I'm Sam. Last March I moved from Bristol to Glasgow...", the
    default model answered "Do you know who I am?" with "I'm sorry, but I don't have enough
    information to know who you are.": the introduction sat among the recent turns, so no
    memory stood beside the question. A question about the user themself is now asked under
    "What you know about me:", over the profile and the user's own side of each turn where
    they told of themself; a question about anything else keeps "Relevant memories:"."""
    mem, _ = open_mem(home, 4096)
    with mem:
        mem.add_memory(
            "Hello, I'm Sam. Last March I moved from Bristol to Glasgow.",
            "Hello! Glasgow is a beautiful city.",
        )
        mem.add_memory("Is it going to rain?", "I can't tell the weather.")
        asked = mem.prepare("Do you know who I am?").messages[-1]["content"]
        block, question = asked.split(">>>\n\n")
        assert block.startswith(prompts.ABOUT_USER_HEADING), asked
        assert "- name: Sam\n" in block
        assert "User: Hello, I'm Sam. Last March I moved from Bristol to Glasgow." in block
        assert "Glasgow is a beautiful city" not in block  # the answer beside it misled
        assert "rain" not in block  # a question tells nothing of the user
        assert question == "Do you know who I am?"
        other = mem.prepare("What should I see in Glasgow?").messages[-1]["content"]
        assert prompts.ABOUT_USER_HEADING not in other and "- name: Sam" not in other


def test_a_question_about_the_user_fits_whatever_the_profile_holds(home: Path) -> None:
    """The profile's lines stand in the block beside the question too, held to half the
    recall room: forty long items once made a 4,258-token prompt for a 1,024-token model,
    with the question shortened to nothing."""
    mem, _ = open_mem(home, 1024)
    with mem:
        for n in range(40):
            mem.set_profile(f"trait_{n}", "a long value " * 30)
        mem.set_profile("name", "Sam")
        mem.add_memory("Hello, I'm Sam. " + "I like long walks. " * 200, "Hi!")
        messages = mem.prepare("Do you know who I am?").messages
        assert fits(mem, messages, 1024)
        assert messages[-1]["content"].endswith(">>>\n\nDo you know who I am?")
        assert "- name: Sam\n" in messages[-1]["content"]


def test_a_message_that_asks_no_question_comes_after_a_turn_to_reply_to_it(home: Path) -> None:
    """A new user's "I'm vegetarian." was answered "I'm sorry, but I don't have any
    information about the user's name.". A message that asks no question comes after a
    system turn saying to reply to what the user tells; the turns before it are those
    evaluated while the user typed, and the prompt still fits."""
    mem, _ = open_mem(home, 4096)
    with mem:
        mem.add_memory("Hello, I'm Noor.", "Hi Noor!")
        for told in ("I'm vegetarian.", "Fig is sick."):
            messages = mem.prepare(told).messages
            assert messages[-2] == prompts.REPLY_TO_TELLING
            assert messages[-1]["role"] == "user" and messages[-1]["content"].endswith(told)
            assert messages[:-2] == mem.stable_prefix()
            assert messages[:-1] == mem.warm_messages()  # idle work evaluated the turn too
            assert fits(mem, messages, 4096)
        for asked in ("Any dinner ideas?", "I work nights. Can you plan my week?"):
            assert prompts.REPLY_TO_TELLING not in mem.prepare(asked).messages


@pytest.mark.parametrize(
    ("question", "facts", "shown"),
    [
        # the fact without a time would answer "when" with the day it was said
        ("When did Jolene buy Seraphim?", ["k1"], ["p1"]),
        ("When did Jolene buy Seraphim?", ["k1", "k2"], ["k2"]),
        # a question about anything else: the judge's order, each fact in a page's room
        ("What did Jolene buy in Paris?", ["k1"], ["k1"]),
        ("What did Jolene buy in Paris?", ["k1", "k2"], ["k1"]),
    ],
)
def test_a_question_about_time_gets_no_fact_that_names_none(
    question: str, facts: list[str], shown: list[str]
) -> None:
    """A fact that names no time can answer "when" only with the day it was learned, and
    took the place of the page that says "a year ago (2022)" (conv-48: "2022" became
    "2023"). For a question about time such a fact is left out, whatever the judge says."""
    from memoryos_cli.memory.context import Budget, build
    from memoryos_cli.memory.records import Recall

    said = dt.datetime(2023, 5, 8, 12, tzinfo=dt.UTC).timestamp()
    text = "Jolene: I bought Seraphim a year ago in Paris."
    page = RecallItem("p1", "mid", text, 1.0, 0.5, said, relevance=0.0,
                      page=Page(1, text, "Gina: Cute!", said, "mid", None))  # fmt: skip
    known = {
        "k1": RecallItem(
            "k1",
            "knowledge",
            "Jolene bought her snake Seraphim in Paris.",
            1.0,
            0.5,
            said,
            relevance=4.0 + M,
        ),  # fmt: skip
        "k2": RecallItem(
            "k2",
            "knowledge",
            "Jolene has had Seraphim since 2022.",
            1.0,
            0.5,
            said,
            relevance=3.0 + M,
        ),  # fmt: skip
    }
    recall = Recall(question, [], [page], [known[k] for k in facts], [])
    built = build(question, recall, [], assistant="a", budget=Budget(4096, 100, 300),
                  count_tokens=approx_tokens, zone=dt.UTC)  # fmt: skip
    assert [i.ref for i in built.recalled] == shown


def test_a_recalled_page_with_no_answer_shows_no_empty_assistant_line(home: Path) -> None:
    """A session's last turn that no one answered (or a chat answer stopped before its first
    token) ended in a bare "Assistant: ", a cue Qwen 1.5B took to write ">>>" and a question
    of its own instead of an answer."""
    with Memoryos(
        "jon", "assistant", home, llm_model=ScriptedLLM(), embedder=HashingEmbedder()
    ) as mem:
        mem.add_memory("Glad to be part of the dance festival!", "", 1_683_565_200.0)
        built = mem.prepare("How does Jon feel about the dance festival?", recent=False)
        assert len(built.recalled) == 1
        assert "Glad to be part of the dance festival!" in built.messages[-1]["content"]
        assert "Assistant:" not in built.messages[-1]["content"]
