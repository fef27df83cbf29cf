"""The generation prompt, laid out for llama.cpp prefix reuse and held to the context window.

Order: [system + profile] [recent turns] [recalled memories + query]. The recent-turn
window grows append-only and is cut in large steps (whole blocks of `capacity`
exchanges), so the evaluated prefix stays valid for many turns; recalled memories sit in
the last message, where changing them costs only their own tokens.

The whole prompt fits the model's context with room for the answer. Text too long for
its share is shortened in the prompt only (its middle replaced by a marker); storage
keeps every word. The prefix's share does not depend on the query, and its turns are
cut to caps that halve in steps, so the same pages give the same prefix every turn.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from memoryos_cli.llm import Message, approx_tokens, prompts
from memoryos_cli.memory.asks import asks, asks_no_question
from memoryos_cli.memory.dates import asks_a_time, names_a_time, pin_relative_dates
from memoryos_cli.memory.long_term import normalized
from memoryos_cli.memory.page_text import SPEAKER_TAG, page_text
from memoryos_cli.memory.pages import ANSWERED_BY
from memoryos_cli.memory.person import (
    asks_of_self,
    denies_knowing,
    gives_a_name,
    known_name,
    name_told,
    says_of_self,
)
from memoryos_cli.memory.records import Page, ProfileItem, Recall, RecallItem
from memoryos_cli.memory.ruled_out import to_avoid
from memoryos_cli.memory.support import stems
from memoryos_cli.words import SENTENCE_END

MAX_PROFILE_LINES = 40
# Weakly matching pages cost prompt time (~1 s per 100 tokens on a laptop CPU) and add
# noise: a page enters the prompt only if its fused score is within this share of the best.
# 0.7 keeps the answers of 0.5 with fewer tokens, and a margin below the cliff at 0.9
# (docs/benchmarks.md, "Numbers behind the code").
RELATIVE_PAGE_SCORE = 0.7
# What stands in for the middle of a text too long for its share of the prompt.
SHORTENED = " … [shortened] … "
# A chat template wraps each message in a few tokens of its own (<|im_start|>user ...).
MESSAGE_OVERHEAD = 8
# The share of the prompt kept free of the prefix for the query (a long paste uses more
# whenever the prefix leaves more).
QUERY_SHARE = 0.25
# Turns are not cut below this many tokens; the oldest leave the prompt instead.
SHORTEST_TURN = 32

CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class Budget:
    """How one model's context window is shared out, in tokens."""

    context: int
    answer: int
    recall: int

    @property
    def prompt(self) -> int:
        """Room for the whole prompt: the context less the answer's room."""
        return max(0, self.context - self.answer)

    @property
    def prefix(self) -> int:
        """Room for system, profile and recent turns: the same whatever the query."""
        return max(0, self.prompt - self.recall - int(self.prompt * QUERY_SHARE))


def message_tokens(messages: list[Message], count_tokens: CountTokens) -> int:
    """What `messages` cost in the prompt, chat-template wrapping included."""
    return sum(count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)


def shorten(text: str, limit: int, count_tokens: CountTokens) -> str:
    """`text` in at most `limit` tokens: as much of its beginning and end as fits around
    the SHORTENED marker (the marker alone when not even that fits)."""
    if count_tokens(text) <= limit:
        return text
    low, high = 0, len(text) // 2  # characters kept at each end
    while low < high:
        mid = (low + high + 1) // 2
        if count_tokens(text[:mid] + SHORTENED + text[-mid:]) <= limit:
            low = mid
        else:
            high = mid - 1
    if not low:
        return SHORTENED.strip()
    return text[:low] + SHORTENED + text[-low:]


def _turn_cap(costs: list[int], room: int) -> int | None:
    """The largest of room, room/2, room/4, ... that fits every turn cut to it into
    `room`; None when even SHORTEST_TURN does not."""
    cap = room
    while cap >= SHORTEST_TURN:
        if sum(min(c, cap) + MESSAGE_OVERHEAD for c in costs) <= room:
            return cap
        cap //= 2
    return None


def window_start(page_ids: list[int], current_start: int | None, capacity: int) -> int | None:
    """First page id of the recent-turn window: moves only when the window reaches
    2 x capacity, and then jumps forward so `capacity` exchanges remain."""
    if not page_ids:
        return current_start
    if current_start is None:
        return page_ids[max(0, len(page_ids) - capacity)]
    inside = [p for p in page_ids if p >= current_start]
    if len(inside) >= 2 * capacity:
        return inside[len(inside) - capacity]
    return current_start


@dataclass
class BuiltPrompt:
    messages: list[Message]
    recalled: list[RecallItem]
    recalled_tokens: int
    # what the profile's diets and allergies rule out and the user's message does not
    # name: the answer must not say it (`memory/ruled_out.py`)
    avoid: list[str] = field(default_factory=list)
    # the recalled items as the prompt shows them, each with its day (and a long page cut)
    lines: list[str] = field(default_factory=list)


@dataclass
class Conversation:
    """One chat's state between its turns: where the recent-turn window starts, and what
    the last answer recalled and was shown (`/why`). The model and the store keep none of
    it, as llm keeps a chat's messages apart from the stateless model."""

    window: int | None = None
    last_recall: Recall | None = None
    last_prompt: BuiltPrompt | None = None

    def recent(self, page_ids: list[int], capacity: int) -> list[int]:
        """The ids of the recent-turn window among the short-term `page_ids`."""
        self.window = window_start(page_ids, self.window, capacity)
        return [] if self.window is None else [i for i in page_ids if i >= self.window]

    def restart(self, newest_page: int | None) -> None:
        """A new session: the window starts after the newest page."""
        self.window = None if newest_page is None else newest_page + 1


# Shown when the profile holds no name: asked "What is my name?", a new user was told "My
# name is MemoryOS." (the 1.5B model read the system message's "You are MemoryOS" as the
# answer), and an introduction ("Hi! I'm Tom") was not greeted by name.
NO_NAME_LINE = "name: not told yet"


def profile_lines(profile: list[ProfileItem], *, read: bool = True, told: str = "") -> list[str]:
    """The profile as the system message shows it; `read`: the long-term tier was read, so
    a profile without a name gives the name `told` in this chat, or says it is not known."""
    lines = [f"{p.attribute.replace('_', ' ')}: {p.value}" for p in profile[:MAX_PROFILE_LINES]]
    if not read or known_name(profile):
        return lines
    return [f"name: {told}" if told else NO_NAME_LINE, *lines]


def known_lines(
    profile: list[ProfileItem], recent: list[Page], query: str, profile_read: bool = True
) -> list[str]:
    """The profile lines the system message shows, with the name the user gave in the
    recent turns until an analysis stores one (see `prefix_messages`)."""
    earlier = [p.user_input for p in recent]
    names = [name for name in map(name_told, earlier) if name]
    told = names[-1] if names else ""  # the latest: "call me Tommy" after "I'm Tom"
    maybe = not told and any(map(gives_a_name, [*earlier, query]))
    return profile_lines(profile, read=profile_read and not maybe, told=told)


def exchange_turns(page: Page) -> list[Message]:
    """A recent exchange as chat turns. An answer of memoryos's own model that opens by
    saying it does not know the user is left out (the page keeps it): shown back, it was
    said again. Two runs of `memoryos chat`: "Hello, I'm Sam. Last March I moved from
    Bristol to Glasgow..." then "Do you know who I am?" got "I'm sorry, but I don't have
    enough information to know who you are.", and so did the same question in the next run,
    where that answer sat in the recent turns; without it, "Yes, I know who you are, Sam."
    The rule reads stored pages only, so the prefix evaluated while the user types holds."""
    asked: Message = {"role": "user", "content": page.user_input}
    if ANSWERED_BY in page.meta and denies_knowing(page.agent_response):
        return [asked]
    return [asked, {"role": "assistant", "content": page.agent_response}]


def prefix_messages(
    assistant: str,
    profile: list[ProfileItem],
    recent: list[Page],
    relationship: str = "friend",
    style_hint: str = "",
    *,
    budget_tokens: int | None = None,
    count_tokens: CountTokens = approx_tokens,
    profile_read: bool = True,
    query: str = "",
) -> list[Message]:
    """The stable part of the prompt: worth evaluating while the user types.

    Until an analysis stores a name, the one the user gave in the recent turns stands in
    the profile: without it, "Do you know who I am?" two turns after "Hi, I'm Tom ..." was
    answered "I am MemoryOS, a private assistant...". A name given in `query`, or one that
    may be none ("I'm Italian"), only leaves "name: not told yet" out: beside that line,
    Qwen 1.5B answered "Hi, I'm Tom ... Yesterday I adopted a cat named Pixel." with "I'm
    sorry, but I don't have any information about Tom or Pixel.", and with "name: Tom"
    there, "Hi, I'm Tom ... Tomorrow I have a dentist appointment at 9." with "I don't have
    any information about your dentist appointment". Nor does the query change the
    system message that was evaluated while the user typed.

    Held to `budget_tokens` when given: the system message to half of it, then every
    turn to one cap (the oldest exchanges leave the prompt if even short turns overflow).
    """
    lines = known_lines(profile, recent, query, profile_read)
    system = prompts.system_message(assistant, lines, relationship, style_hint)
    exchanges = [exchange_turns(page) for page in recent]
    turns = [turn for exchange in exchanges for turn in exchange]
    if budget_tokens is None:
        return [system, *turns]
    limit = budget_tokens // 2 - MESSAGE_OVERHEAD
    system = {**system, "content": shorten(system["content"], limit, count_tokens)}
    room = budget_tokens - message_tokens([system], count_tokens)
    costs = [count_tokens(t["content"]) for t in turns]
    cap = _turn_cap(costs, room)
    while cap is None and turns:  # the oldest exchange leaves, both its turns
        gone = len(exchanges.pop(0))
        turns, costs = turns[gone:], costs[gone:]
        cap = _turn_cap(costs, room)
    for i, cost in enumerate(costs):
        if cap is not None and cost > cap:
            turns[i] = {**turns[i], "content": shorten(turns[i]["content"], cap, count_tokens)}
    return [system, *turns]


def focus(page: Page, query: str) -> str:
    """A page cut to what the query is about: on each side, the sentences that share a
    content word with the query, each with the sentence after it (the answer to a question
    often follows it), or the side's first sentence when none does. A page with no such
    sentence stays whole: it was recalled for its meaning or its neighbours, not its words.

    Used for a page too long for the room left, which would otherwise be skipped: cut, it
    still answers; skipped, it is lost. A page that fits stays whole, because cutting every
    page cost answers (docs/benchmarks.md, "Numbers behind the code")."""
    sides = []
    for text in (page.user_input, page.agent_response):
        opening = SPEAKER_TAG.match(text)
        sides.append((opening.group(0), text[opening.end() :]) if opening else ("", text))
    # A speaker's name is in every page of an imported chat: it says nothing of the topic.
    names = frozenset(re.findall(r"[a-z]+", " ".join(t for t, _ in sides).lower()))
    wanted = stems(query, names)
    cut, matched = [], False
    for tag, text in sides:
        sentences = SENTENCE_END.split(text)
        hits = {i for i, s in enumerate(sentences) if stems(s, names) & wanted}
        matched = matched or bool(hits)
        keep = sorted(hits | {i + 1 for i in hits if i + 1 < len(sentences)}) or [0]
        cut.append(tag + " … ".join(sentences[i] for i in keep))
    return page_text(*cut) if matched else page_text(page.user_input, page.agent_response)


# How far (in the judge's logits) a fact must score above a page to take its place. A
# fact that says in ten words what a page says in fifty scores higher with the judge, but
# the page holds the answer's own words and the turn around it. Chosen on one half of the
# dev file and checked on the other (docs/benchmarks.md, "Facts against pages").
FACT_MARGIN = 1.0
# How far under the judge's best page a page may score and still be shown. 4 kept LoCoMo
# F1 within one answer on both halves of the dev file, with 4 to 11 fewer recalled tokens;
# 6 cut almost nothing (docs/benchmarks.md, "Pages far below the best one").
PAGE_GAP = 4.0


def judged(pages: list[RecallItem], facts: list[RecallItem]) -> bool:
    """Whether the relevance judge read the pages and every fact, so they can compete."""
    return any(p.relevance is not None for p in pages) and all(
        f.relevance is not None for f in facts
    )


# The judge's logit under which a fact is off the topic, when no page is there to compare it
# with (a new user's pages are all among the recent turns): it gives -9 to -11.3 to text that
# shares nothing with the message ("Noor's favourite author is Ursula K. Le Guin." for "Any
# dinner ideas for tonight?"), and -4.2 to "The user's sister Lena is visiting in two
# weeks." for "What should I cook for Lena?". The same floor holds a fact put first for an
# ask (`each_asks_best`) to what is on the ask's topic.
TOPIC_FLOOR = -6.0


def judged_order(pages: list[RecallItem], facts: list[RecallItem]) -> list[RecallItem]:
    """Pages (best first) and facts in the order they claim the recall budget.

    With a relevance judge (recall's cross-encoder scored them all against the query), a
    fact goes in only if it beats a page by FACT_MARGIN: it is placed before the first
    page it beats, and a fact that beats no page is left out (`build` then holds them all
    to the room the pages alone would take). Without one, pages first and
    facts in the room they leave: taking turns, a fact's paraphrase often displaced the page
    holding the answer (docs/benchmarks.md, "Numbers behind the code").
    """
    if not pages and facts and all(f.relevance is not None for f in facts):
        # no page to beat: a fact is shown only if it is on the message's topic (before
        # this, a new user's every fact filled the room, whatever was asked)
        return [f for f in facts if (f.relevance or 0.0) >= TOPIC_FLOOR]
    if not judged(pages, facts):
        return [*pages, *facts]
    judged_pages = [p.relevance for p in pages if p.relevance is not None]

    def claim(fact: RecallItem) -> float:
        return (fact.relevance or 0.0) - FACT_MARGIN

    floor = min(judged_pages)
    waiting = sorted((f for f in facts if claim(f) > floor), key=lambda f: -claim(f))
    order: list[RecallItem] = []
    for page in pages:
        while waiting and page.relevance is not None and claim(waiting[0]) > page.relevance:
            order.append(waiting.pop(0))
        order.append(page)
    return [*order, *waiting]


def within_reach(items: list[RecallItem], keep: set[str]) -> list[RecallItem]:
    """The items less pages the judge scores more than PAGE_GAP logits under its best
    page: on the room that is left, such a page costs tokens (11 ms each before the first
    one of the answer) and answers nothing. An ask's own best item (`keep`) stays however
    low: the judge gave "I'm allergic to shellfish..." -9 for "Remember my allergy.", as
    noise. A page the judge did not read stays too."""
    judged_pages = [i.relevance for i in items if i.page is not None and i.relevance is not None]
    if not judged_pages:
        return items
    floor = max(judged_pages) - PAGE_GAP
    return [
        i
        for i in items
        if i.page is None or i.relevance is None or i.relevance >= floor or i.ref in keep
    ]


def asked_again(page: Page | None, query: str) -> bool:
    """Whether `page` is an earlier asking of `query` that memoryos's own model answered:
    the user's turn holds every content word of the query, and the rest is the model's
    words. Recalled, such pages filled the room ("the two earlier askings of the same
    question, with their long answers, filled the 200 recalled tokens"), and a wrong answer
    came back as evidence for itself; whatever the answer rested on is recalled on its own."""
    return page is not None and ANSWERED_BY in page.meta and repeats(page, query)


def repeats(page: Page, text: str) -> bool:
    """Whether the user's turn on `page` says every content word of `text` again, or, for a
    text of no content words ("Do you know who I am?"), the same words."""
    wanted = stems(text)
    if not wanted:
        said = normalized(text)
        return bool(said) and said == normalized(page.user_input)
    return wanted <= stems(page.user_input)


def each_asks_best(
    query: str, items: list[RecallItem], shown: list[RecallItem]
) -> list[RecallItem]:
    """For a message of several asks, the best item of each ask by the judge (a page or a
    fact), in the asks' order, each once. An ask whose best item is among the recent turns
    (`shown`) is answered there already. A page where the user asked the same again (every
    word of the ask in their turn) is an echo of the ask, not its answer.

    Ranked as one list, the best items of one ask can fill the room: for "What should I cook
    for Lena this weekend? Remember my allergy." a fact about cooking for Lena (judged 6.3)
    took the room the one page of the allergy (-2.6, the second ask's best) would have had,
    and the ask's earlier askings, with the model's wrong answers, stood for the allergy.
    An ask of when is not answered first by a fact that names no time.
    """
    parts = asks(query)
    pool = [i for i in (*items, *shown) if len(i.ask_relevance) == len(parts) > 1]
    in_turns = {i.ref for i in shown}
    best: dict[str, RecallItem] = {}
    for n, part in enumerate(parts):
        answers = [i for i in pool if i.page is None or not repeats(i.page, part)]
        # a fact must be on the ask's topic; a page is among the message's best by its
        # words and neighbours already (the judge gave the right page -8.8 for "Remember my
        # allergy.": "Noted: no shellfish in recipes.")
        answers = [i for i in answers if i.page is not None or i.ask_relevance[n] >= TOPIC_FLOOR]
        if asks_a_time(part):  # as for a whole message (`build`): a page carries its day
            answers = [i for i in answers if i.page is not None or names_a_time(i.text)]
        top = max(answers, key=lambda i: i.ask_relevance[n], default=None)
        if top is not None and top.ref not in in_turns:
            best.setdefault(top.ref, top)
    return list(best.values())


def build(
    query: str,
    recall: Recall,
    recent: list[Page],
    *,
    assistant: str,
    budget: Budget,
    count_tokens: CountTokens,
    zone: dt.tzinfo,
    relationship: str = "friend",
    style_hint: str = "",
    told: Sequence[str] = (),
) -> BuiltPrompt:
    """The prompt for `query`: the prefix, then recalled lines (up to `budget.recall`
    tokens, never more than half of what the prefix leaves) and the query in what is left.
    Each line shows its day, and its relative times pinned, in `zone` (the user's)."""
    messages = prefix_messages(
        assistant,
        recall.profile,
        recent,
        relationship,
        style_hint,
        budget_tokens=budget.prefix,
        count_tokens=count_tokens,
        profile_read=recall.long_term,
        query=query,
    )
    reply_turn = [prompts.REPLY_TO_TELLING] if asks_no_question(query) else []
    left = budget.prompt - message_tokens([*messages, *reply_turn], count_tokens) - MESSAGE_OVERHEAD
    shown = {p.id for p in recent}
    pages = [i for i in recall.mid_term if i.page is None or i.page.id not in shown]
    pages += [i for i in recall.short_term if i.page is not None and i.page.id not in shown]
    pages = [i for i in pages if not asked_again(i.page, query)]
    best = max((i.score for i in pages), default=0.0)
    relevant = [i for i in pages if i.score >= RELATIVE_PAGE_SCORE * best]
    ranked = sorted(relevant, key=lambda i: -i.score)
    limit = room = min(budget.recall, left // 2)
    in_turns = [i for i in recall.short_term if i.page is not None and i.page.id in shown]
    firsts = each_asks_best(query, [*pages, *recall.knowledge], in_turns)
    keep = {i.ref for i in firsts}
    knowledge = recall.knowledge
    if ranked and asks_a_time(query):
        # A fact that names no time answers "when" with the day it was learned: "...they
        # bought it in Paris." took the place of the page that says "a year ago (2022)",
        # and 2022 became 2023. The pages, which carry their dates, answer instead.
        knowledge = [f for f in knowledge if names_a_time(f.text)]
    if knowledge and judged(ranked, knowledge):
        # A fact the judge puts above a page takes room from the pages, never adds to it:
        # facts let the prompt recall fewer tokens, not more (on LoCoMo full F1 held, with
        # 12-18% fewer tokens; docs/benchmarks.md, "Facts take the pages' room"). The room
        # is that of the pages that would be shown.
        room = lay_out(within_reach(ranked, keep), room, query, zone, count_tokens)[2]
    candidates = judged_order(ranked, knowledge)
    if firsts:  # every ask gets its best item first, and the room for it
        room = max(room, lay_out(firsts, limit, query, zone, count_tokens)[2])
        candidates = [*firsts, *(i for i in candidates if i.ref not in keep)]
    candidates = within_reach(candidates, keep)
    heading = prompts.RECALLED_HEADING
    known: list[str] = []
    if asks_of_self(query):
        heading = prompts.ABOUT_USER_HEADING
        known, said = told_of_user(recall, recent, in_turns, query, limit // 2, count_tokens)
        limit -= sum(map(count_tokens, known))
        told_here = {i.ref for i in said}
        candidates = [*said, *(i for i in candidates if i.ref not in told_here)]
        room = min(max(room, lay_out(said, limit, query, zone, count_tokens)[2]), limit)
    chosen, lines, used = lay_out(candidates, room, query, zone, count_tokens)
    lines = [*known, *lines]
    # The recalled block's wrapping and separators count against the query's room too.
    query_room = left - count_tokens(prompts.user_turn("", lines, heading)["content"])
    messages.extend(reply_turn)
    messages.append(prompts.user_turn(shorten(query, query_room, count_tokens), lines, heading))
    # Only the user's message lifts a ban (`memory/ruled_out.py`): not the profile's lines,
    # nor the memories recalled beside it. `told`: the user's facts that tell a diet.
    return BuiltPrompt(messages, chosen, used, to_avoid(recall.profile, query, told), lines)


def told_of_user(
    recall: Recall,
    recent: list[Page],
    in_turns: list[RecallItem],
    query: str,
    room: int,
    count_tokens: CountTokens,
) -> tuple[list[str], list[RecallItem]]:
    """What a question about the user themself is asked over: the profile's lines (as many
    as fit in `room`), and the user's side of each recent turn where they told of themself.

    Two turns after "Hello, I'm Sam. Last March I moved from Bristol to Glasgow...", with
    "name: Sam" in the system message and the introduction among the recent turns (so not
    in the recalled block), the default model answered "Do you know who I am?" with "I'm
    sorry, but I don't have enough information to know who you are." The user's side alone:
    with the answer beside it ("Assistant: Hello! I'm glad..."), it answered "I'm a private
    assistant that runs offline..."."""
    profile = [
        f"- {line}"
        for line in known_lines(recall.profile, recent, query, recall.long_term)
        if line != NO_NAME_LINE
    ]
    said = [
        replace(i, text=page_text(i.page.user_input, ""))
        for i in in_turns
        if i.page is not None and says_of_self(i.page.user_input)
    ]
    return fitting(profile, room, count_tokens), said


def fitting(lines: list[str], room: int, count_tokens: CountTokens) -> list[str]:
    """The first lines that fit in `room` tokens together."""
    kept: list[str] = []
    for line in lines:
        room -= count_tokens(line)
        if room < 0:
            break
        kept.append(line)
    return kept


def lay_out(
    items: list[RecallItem], room: int, query: str, zone: dt.tzinfo, count_tokens: CountTokens
) -> tuple[list[RecallItem], list[str], int]:
    """The items that fit in `room` tokens, in order, as prompt lines, and their cost: a
    page too long for the room left shows its sentences on the query (`focus`), an item
    that does not fit even so is skipped."""
    chosen: list[RecallItem] = []
    lines: list[str] = []
    used = 0
    for item in items:
        line = prompts.recalled_line(item.ts, pin_relative_dates(item.text, item.ts, zone), zone)
        cost = count_tokens(line)
        if used + cost > room and item.page is not None:
            line = prompts.recalled_line(
                item.ts, pin_relative_dates(focus(item.page, query), item.ts, zone), zone
            )
            cost = count_tokens(line)
        if used + cost > room:
            continue
        chosen.append(item)
        lines.append(line)
        used += cost
    return chosen, lines, used
