"""The updater: turns unanalysed pages into profile and knowledge.

ONE LLM call per batch of pages, its reply validated before anything is written. Two
kinds of job feed it: a hot mid-term segment (MemoryOS's heat trigger) and a batch of
recent pages (a full batch during a session, the rest when the session ends), so a new
user's profile fills in during their first session and every page is analysed exactly
once. The call runs outside any transaction; its result is applied, the pages marked
analysed and the job finished in one transaction, so a kill at any moment leaves the
job either pending (it runs again) or done (its effects committed exactly once).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from memoryos_cli.llm import LLM, Message, prompts
from memoryos_cli.memory import jobs, long_term, mid_term
from memoryos_cli.memory import pages as page_store
from memoryos_cli.memory.analysis import Analysis, read_reply, reply_schema
from memoryos_cli.memory.context import CountTokens, message_tokens, shorten
from memoryos_cli.memory.dates import pin_relative_dates
from memoryos_cli.memory.page_text import SPEAKER_TAG
from memoryos_cli.memory.pages import Excerpt
from memoryos_cli.memory.scope import Scope
from memoryos_cli.memory.support import ROLES, stems, support

# A batch this size is one call of ~1,000 prompt tokens; during a session a job is
# queued only once a full batch waits, so consolidation stays under 0.1 calls per page.
PAGES_PER_CALL = 12
MIN_SUPPORT = 0.5  # the same rule `bench locomo --pipeline full` grades precision with
EXCERPT_SIDE_TOKENS = 400
SHORTEST_SIDE_TOKENS = 32
# A page's header ("[page 12 | Mon 8 May 2023]", "User:", "Assistant:") and the dates
# pinned after relative times ("yesterday (7 May 2023)") on top of its two sides.
PAGE_OVERHEAD = 40
CONTEXT_MARGIN = 32  # the chat template's own tokens around the messages
ANALYSIS_MAX_TOKENS = 700
# Greedy decoding lets a small model repeat itself ("job = counselor" on eight pages, one
# fact on every page): a mild penalty on repeated tokens. LoCoMo dev, 2 sessions of each
# conversation, Qwen 1.5B: 12 facts (precision 0.92, recall 0.40) at 4.0 s per exchange,
# against 8 facts (0.75, 0.33) at 8.1 s without it.
ANALYSIS_REPEAT_PENALTY = 1.1


class Cancelled(Exception):
    """The user needs the model: give the job back untouched."""


class PagesForgotten(Exception):
    """A page of the batch was forgotten while the model read it: the reply is dropped
    and the job runs again over the pages left (forget wins every race)."""


def queue_pages(conn: Any, owner_id: int, *, min_pages: int | None = None) -> bool:
    """Queue analysis of the owner's unanalysed pages once `min_pages` of them wait
    (default: a full batch) beyond those an open job already covers.

    The job's target is the newest page id it covers; page ids are unique across owners,
    so one open job per target is also one per owner and batch.
    """
    covered = jobs.newest_open_target(conn, owner_id, jobs.ANALYZE_PAGES)
    waiting, newest = page_store.unanalysed_after(conn, owner_id, covered or 0)
    if newest is None or waiting < (min_pages or PAGES_PER_CALL):
        return False
    return jobs.enqueue(conn, owner_id, jobs.ANALYZE_PAGES, newest)


def mark_digested(conn: Any, owner_id: int, but_newest: int, note: str) -> None:
    """Every page of the owner analysed but the newest `but_newest`, every job done with
    `note`: a history loaded as already digested (a session's end queues the rest)."""
    jobs.mark_all_done(conn, owner_id, note)
    newest = page_store.newest_ids(conn, owner_id, but_newest) if but_newest else []
    page_store.mark_all_analyzed(conn, owner_id, but_from=newest[0] if newest else None)


def run_pending(
    scope: Scope,
    llm: LLM,
    *,
    max_jobs: int | None = None,
    cancel: threading.Event | None = None,
    failed: set[int] | None = None,
) -> int:
    """Drain this owner's queue (up to `max_jobs`); returns how many jobs completed.

    A job whose reply failed goes back to the queue and its id into `failed`, which this
    drain (and any later drain given the same set) skips: a model that cannot analyse a
    segment would otherwise spend all its attempts in a row while the user waits at exit
    (SmolLM2 here: ~30 s per attempt).
    """
    store = scope.store
    with store.transaction() as conn:
        jobs.recover(conn)
    done = 0
    failed = set() if failed is None else failed
    while max_jobs is None or done < max_jobs:
        if cancel is not None and cancel.is_set():
            break
        with store.transaction() as conn:
            job = jobs.claim(conn, scope.owner_id, skip=failed)
        if job is None:
            break
        try:
            analyse(scope, llm, job, cancel)
        except Cancelled:
            with store.transaction() as conn:
                jobs.give_back(conn, job)
            break
        except PagesForgotten:
            continue  # given back in the transaction that found it; claimed again next
        except Exception as exc:  # noqa: BLE001 - a bad reply must never kill the worker
            with store.transaction() as conn:
                jobs.release(conn, job, f"{type(exc).__name__}: {exc}")
            failed.add(job.id)
            continue
        done += 1
    return done


def _batch(
    conn: Any, owner_id: int, job: jobs.Job, room: int, count_tokens: CountTokens
) -> list[Excerpt]:
    """The unanalysed pages a job covers, oldest first, at most one call's worth.

    The call must fit the model's context whatever was said or pasted: pages are counted
    with the model's own tokenizer (Chinese text is ~1 token a character, not 4), each
    side of a page is cut (in the prompt only), and the batch ends once `room` is full.
    """
    if job.kind == jobs.ANALYZE_PAGES:
        found = page_store.unanalysed_up_to(conn, owner_id, job.target_id, PAGES_PER_CALL)
    else:
        found = page_store.unanalysed_in_segment(conn, job.target_id, PAGES_PER_CALL)
    side = max(SHORTEST_SIDE_TOKENS, min(EXCERPT_SIDE_TOKENS, (room - PAGE_OVERHEAD) // 2))
    batch: list[Excerpt] = []
    used = 0
    for pid, ts, said, answer in found:
        user, agent = (shorten(t, side, count_tokens) for t in (said, answer))
        cost = count_tokens(user) + count_tokens(agent) + PAGE_OVERHEAD
        if batch and used + cost > room:
            break
        batch.append((pid, ts, user, agent))
        used += cost
    return batch


def excerpt_room(llm: LLM, fixed: list[Message]) -> int:
    """Tokens left for the pages of one call: the model's context less the instructions
    and profile (`fixed`, the call's messages without pages) and the reply."""
    instructions = message_tokens(fixed, llm.count_tokens)
    return llm.context_size - instructions - ANALYSIS_MAX_TOKENS - CONTEXT_MARGIN


NAME_ATTRIBUTES = ("name", "user_name", "first_name", "full_name")


def _user_name(profile: list[Any]) -> str:
    names = [p.value for p in profile if p.attribute in NAME_ATTRIBUTES]
    return names[0] if names else ""


def found_names(analysis: Analysis) -> list[str]:
    """The user's name as this batch's profile items give it."""
    return [
        value
        for attribute, value, _ in analysis.profile
        if long_term.normalize_attribute(attribute) in NAME_ATTRIBUTES
    ]


def fact_subjects(analysis: Analysis, profile: list[Any]) -> frozenset[str]:
    """Who facts are about besides the roles (which `stems` always leaves out): the words of
    the user's name, known or found in this batch. They say whom a fact concerns, not what
    it claims, so they never count as its support."""
    names = [_user_name(profile), *found_names(analysis)]
    return frozenset(w for n in names for w in re.findall(r"[a-z]+", n.lower()))


def drop_copied_example(analysis: Analysis, excerpts: str) -> None:
    """Small models sometimes hand back the prompt's own example as a finding, whole or
    blended with the user's words ("Lea recommended Ana a vet in Porto"): an item with two
    or more of the example's own words (its values: not "profile" or "name") that the
    excerpts do not hold is dropped (a profile item: one such word)."""
    template = long_term.normalized(prompts.ANALYSIS_INSTRUCTIONS + prompts.ANALYSIS_EXAMPLE)
    example = json.loads(prompts.ANALYSIS_EXAMPLE)
    values = [
        *example["user_facts"],
        *example["assistant_facts"],
        *(item.split("=", 1)[-1] for item in example["profile"]),
        example["summary"],
    ]
    borrowed = stems(" ".join(values)) - stems(excerpts)

    def copied(text: str) -> bool:
        return long_term.normalized(text) in template or len(stems(text) & borrowed) >= 2

    def copied_value(attribute: str, value: str) -> bool:
        """A profile value is a few words: one of the example's is a copy already ("name =
        Jon Reyes" from "Tom Reyes", Qwen 1.5B on LoCoMo, then in every fact about Jon)."""
        return long_term.normalized(f"{attribute} = {value}") in template or bool(
            stems(value) & borrowed
        )

    analysis.keep_facts(lambda text: not copied(text))
    analysis.profile = [p for p in analysis.profile if not copied_value(p[0], p[1])]


def drop_unsupported(
    analysis: Analysis,
    pages: list[tuple[int, float, str, str]],
    excerpts: str,
    subjects: frozenset[str],
) -> None:
    """Keep what the pages ground: a fact needs MIN_SUPPORT of its content words (by stem,
    dates aside) in the pages it cites, the names of who it is about (`subjects`) aside; a
    profile value needs them in the batch. A small model's invented details go here.

    Cited pages, not the whole batch, and names aside: words scattered over a dozen pages
    plus the user's own name grounded "Caroline is a personal assistant." (LoCoMo, Qwen
    1.5B, whole conversations: 24 of 189 facts their cited pages do not hold)."""
    text_of = {pid: f"{u} {a}" for pid, _, u, a in pages}

    def grounded(text: str) -> bool:
        return support(text, excerpts) >= MIN_SUPPORT

    def held(text: str, cited: list[int]) -> bool:
        """A fact with nothing but names and dates says nothing ("Caroline, on 3 May")."""
        cited_text = " ".join(text_of.get(p, "") for p in cited)
        return bool(stems(text, subjects)) and support(text, cited_text, subjects) >= MIN_SUPPORT

    def numbers_said(value: str) -> bool:
        """A number in a profile value is one the excerpts hold ("age = 30" with no 30 in
        them was Qwen 1.5B's guess); facts may compute dates, lasting attributes not."""
        return all(re.search(rf"(?<!\d){n}(?!\d)", excerpts) for n in re.findall(r"\d+", value))

    analysis.user_facts = [f for f in analysis.user_facts if held(*f)]
    analysis.assistant_facts = [f for f in analysis.assistant_facts if held(*f)]
    analysis.profile = [p for p in analysis.profile if grounded(p[1]) and numbers_said(p[1])]


# A fact whose words run this long in one turn is that turn copied out, not distilled.
COPIED_RUN_WORDS = 8
MAX_CITED_PAGES = 3


def drop_copied_turns(analysis: Analysis, pages: list[tuple[int, float, str, str]]) -> None:
    """Drop facts that copy a turn of the excerpts (COPIED_RUN_WORDS or more of its words
    in a row, speaker tag aside): the page already holds those words, in the speaker's
    first person, and a copied greeting is no fact. A small model copies rather than
    distils (LoCoMo, Qwen 1.5B: a third of its facts were chat lines, "Caroline: Hey Mel!")."""
    turns = [long_term.normalized(t) for _, _, u, a in pages for t in (u, a)]

    def copied(text: str) -> bool:
        words = long_term.normalized(text).split()
        if len(words) < COPIED_RUN_WORDS:
            return any(" ".join(words) == turn for turn in turns)
        runs = (
            " ".join(words[i : i + COPIED_RUN_WORDS])
            for i in range(len(words) - COPIED_RUN_WORDS + 1)
        )
        return any(run in turn for run in runs for turn in turns)

    analysis.keep_facts(lambda text: not copied(text))


# "Melanie: I'm glad you're..." is a chat line, not a fact: a speaker's tag over a turn in
# its speaker's voice, or "you".
SECOND_PERSON = re.compile(r"\b(?:you|you're|you've|you'll|your|yours|yourself)\b", re.I)
SPEAKER_I = r"I|I'm|I've|I'll|I'd"  # the speaker, capitalised as written
SPEAKER_VOICE = re.compile(
    rf"\b(?:{SPEAKER_I})\b|\b(?:me|my|mine|we|we're|our|us)\b|" + SECOND_PERSON.pattern,
    re.I,
)
# A quoted title or phrase ("Ana is reading 'Your Brain on Food'"): its words are not the
# fact's voice. Opening quotes follow no letter, so "Ana's" opens nothing.
QUOTED = re.compile(r"(?<!\w)['‘\"“][^'’\"”]+['’\"”](?!\w)")
GREETING = r"(?:hi|hey|hello|thanks|thank you|bye|good morning|good night|congrats),?"


def is_chat_line(text: str) -> bool:
    """One side talking to the other: "you" outside quotes, or a speaker's tag over a turn
    in the first person or a greeting ("Melanie: I'm glad..."). A label over a third-person
    fact ("Note: the user is allergic to shellfish.") is no speaker's tag."""
    plain = QUOTED.sub(" ", text)
    tag = SPEAKER_TAG.match(plain)
    if tag is not None:
        said = plain[tag.end() :]
        if SPEAKER_VOICE.search(said) or re.match(GREETING, said.strip(), re.I):
            return True
    return SECOND_PERSON.search(plain) is not None


def drop_chat_lines(analysis: Analysis) -> None:
    """Drop facts written as one side talking to the other (`is_chat_line`): a small model
    that paraphrases a turn keeps its voice (LoCoMo, Qwen 1.5B: "Melanie: I'm glad you
    found the painting inspiring."). "I" and "my" without a tag stay: in the user's facts
    they are the user ("My sister Emma visits next week" is what Qwen 0.5B writes)."""
    analysis.keep_facts(lambda text: not is_chat_line(text))


# "Caroline thanked Mel for motivating her": who it is about (a word or two), then a courtesy
# to someone (`whom`) or an expressed feeling, as the main verb.
COURTESY = re.compile(
    r"^\s*(?:[Tt]he\s+)?[\w'’]+(?:\s+[\w'’]+)?\s+(?:also\s+|again\s+)?(?:"
    r"(?:thank(?:ed|s)|congratulat(?:ed|es)|prais(?:ed|es)|compliment(?:ed|s)|encourag(?:ed|es))"
    r"\s+(?:the\s+)?(?P<whom>[\w'’]+)\b"
    r"|express(?:ed|es)\s+(?:\w+\s+)?(?:gratitude|thanks|admiration|appreciation|support)\b)"
)
# A name said to someone: "Hey Gina!", "Thanks, Gina", "You're welcome, Jon!".
VOCATIVE = re.compile(
    rf"\b(?i:{GREETING})\s+(?P<greeted>[A-Z][\w'’]*)|,\s*(?P<called>[A-Z][\w'’]*)\s*[!?.,]"
)


def conversation_parties(pages: list[tuple[int, float, str, str]]) -> frozenset[str]:
    """Who the conversation is between: the two roles and every name one side calls the
    other by in these pages (lowercased)."""
    names = {
        (m.group("greeted") or m.group("called")).lower()
        for _, _, u, a in pages
        for m in VOCATIVE.finditer(f"{u}\n{a}")
    }
    return ROLES | names


def drop_courtesies(analysis: Analysis, pages: list[tuple[int, float, str, str]]) -> None:
    """Drop facts that record the conversation's manners, not the person: thanks, praise,
    congratulations, encouragement given to the other side of the conversation ("Gina
    encouraged Jon to stay resilient"), or an expressed gratitude. The prompt asks to skip
    small talk; a small model still wrote them (LoCoMo, Qwen 1.5B, whole conversations: 30
    of 189 facts). A courtesy to someone else carries a fact: "the user thanked Dr. Patel
    for the knee surgery", "Ana encouraged Tom, her son, to apply to MIT"."""
    parties = conversation_parties(pages)

    def courtesy(text: str) -> bool:
        match = COURTESY.match(text)
        if match is None:
            return False
        whom = match.group("whom")
        return whom is None or whom.lower() in parties

    analysis.keep_facts(lambda text: not courtesy(text))


def cite_supporting_pages(
    analysis: Analysis, pages: list[tuple[int, float, str, str]], subjects: frozenset[str]
) -> None:
    """Cite the pages that hold a fact's words when the ones the model named do not.

    Small models misnumber (Qwen 1.5B often cites the page after the right one); the
    provenance `memory why` shows and `forget` follows must be the page that says it. The
    best-supporting pages of the batch are cited instead, as few as reach MIN_SUPPORT; a
    citation that does hold the words loses the pages that add none of them. A fact's
    words are weighed without the names of who it is about (`subjects`): the page that says
    what Ana did, not the one that only says "Ana". A profile value's are weighed whole.
    """
    text_of = {pid: f"{u} {a}" for pid, _, u, a in pages}

    def cite(text: str, cited: list[int], ignore: frozenset[str] = frozenset()) -> list[int]:
        def held(pids: list[int]) -> float:
            return support(text, " ".join(text_of.get(p, "") for p in pids), ignore)

        if cited and held(cited) >= MIN_SUPPORT:
            # Less the pages that add none of the words ("lives in Porto" cites the page
            # that says Porto, not the greeting before it); weakest, latest first.
            kept = list(cited)
            for pid in sorted(cited, key=lambda p: (held([p]), -p)):
                rest = [p for p in kept if p != pid]
                if rest and held(rest) >= held(kept):
                    kept = rest
            return kept
        ranked = sorted(text_of, key=lambda pid: -held([pid]))
        chosen: list[int] = []
        for pid in ranked[:MAX_CITED_PAGES]:
            chosen.append(pid)
            if held(chosen) >= MIN_SUPPORT:
                return sorted(chosen)
        return cited  # no page holds it: drop_unsupported decides

    analysis.user_facts = [(t, cite(t, c, subjects)) for t, c in analysis.user_facts]
    analysis.assistant_facts = [(t, cite(t, c, subjects)) for t, c in analysis.assistant_facts]
    analysis.profile = [(a, v, cite(v, c)) for a, v, c in analysis.profile]


# "The assistant promised to fly to Oslo": an item whose subject is the side it is filed under.
# Moving an item renames its subject: its claim must be nearly all in the other side's words
# ("The assistant recommended Klara a violin teacher" is half in "Klara started violin").
REFILE_SUPPORT = 0.75
ROLE_SUBJECT = re.compile(r"^\s*the (user|assistant)\b", re.I)


def drop_misattributed(
    analysis: Analysis, pages: list[tuple[int, float, str, str]], user_name: str = ""
) -> None:
    """Drop items the other side said: a user fact or profile value whose words the user's
    turns of its cited pages do not hold (under MIN_SUPPORT) while the assistant's hold
    more, and an assistant fact the other way round. A small model mixes up who did what
    (LoCoMo, Qwen 1.5B: "Caroline described her camping trip", Melanie's trip; "Jon
    designed his store", Gina's store); the words say whose it was.

    A fact whose subject is only its list's role ("The assistant promised to fly to Oslo",
    from the user's "I'm flying to Oslo": Qwen 1.5B filed a first session's third user
    statement under the assistant) moves to the other side's list instead, its subject
    renamed: the claim is right, the filing was not. So does an assistant fact that names
    its subject ("Mara's daughter Klara started violin lessons", the user's words) when the
    user's name is known: `fix_self_statements` then corrects a subject that is the user."""
    user = {pid: u for pid, _, u, _ in pages}
    agent = {pid: a for pid, _, _, a in pages}

    def said_by(own: dict[int, str], other: dict[int, str], text: str, cited: list[int]) -> bool:
        mine = support(text, " ".join(own.get(p, "") for p in cited))
        theirs = support(text, " ".join(other.get(p, "") for p in cited))
        return mine >= MIN_SUPPORT or mine >= theirs

    def refiled(fact: tuple[str, list[int]], role: str) -> list[tuple[str, list[int]]]:
        """`fact`, filed under `role`, as an item of the other side (or nothing)."""
        turns = user if role == "assistant" else agent
        if support(fact[0], " ".join(turns.get(p, "") for p in fact[1])) < REFILE_SUPPORT:
            return []  # half its words there: as likely invented as misfiled
        match = ROLE_SUBJECT.match(fact[0])
        if match is not None and match.group(1).lower() == role:
            subject = (user_name or "The user") if role == "assistant" else "The assistant"
            return [(subject + fact[0][match.end() :], fact[1])]
        if role == "assistant" and user_name:
            return [fact]  # named; `fix_self_statements` puts the user's name on it if theirs
        return []

    users, agents = analysis.user_facts, analysis.assistant_facts
    analysis.user_facts = [f for f in users if said_by(user, agent, *f)] + [
        moved
        for f in agents
        if not said_by(agent, user, *f) and said_by(user, agent, *f)
        for moved in refiled(f, "assistant")
    ]
    analysis.assistant_facts = [f for f in agents if said_by(agent, user, *f)] + [
        moved
        for f in users
        if not said_by(user, agent, *f) and said_by(agent, user, *f)
        for moved in refiled(f, "user")
    ]
    analysis.profile = [p for p in analysis.profile if said_by(user, agent, p[1], p[2])]


# "Klara is allergic to cats.": who a fact is about, a name at its start.
LEADING_NAME = re.compile(r"^\s*((?!The\b)[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)\s+(?=[a-z])")
# ", and she's allergic": a second claim joined to the first, its subject a pronoun or none.
JOINED_CLAIM = re.compile(r",?\s+and\s+(?:(?:she|he|they)\b(?P<be>'s|’s)?\s*)?")
FIRST_PERSON = re.compile(rf"^\W*(?:{SPEAKER_I}|My|Me)\b")


def fix_self_statements(
    analysis: Analysis, pages: list[tuple[int, float, str, str]], user_name: str = ""
) -> None:
    """A user fact that puts someone else's name on what the user said of themself gets
    the user as its subject: "Klara is allergic to cats." from "My daughter Klara started
    violin. I'm allergic to cats." (Qwen 1.5B, 2 first sessions of 3 with the clauses split,
    after its own answer had misread the allergy as Klara's; 0 of 5 with this). The fact's
    claim must be nearly all in one
    of the user's sentences that opens in the first person and does not name that person,
    and the user's name must be known (else the name in the fact may be theirs)."""
    user = {pid: u for pid, _, u, _ in pages}
    own_names = {w.lower() for w in re.findall(r"[A-Za-z]+", user_name)}

    def own_sentences(cited: list[int]) -> list[str]:
        said = " ".join(split_own_clauses(user.get(p, "")) for p in cited)
        return [s for s in re.split(r"(?<=[.!?;])\s+", said) if FIRST_PERSON.match(s)]

    def own_claim(claim: str, name: str, cited: list[int]) -> bool:
        """Whether `claim` restates a first-person sentence of the user that is not about
        `name`."""
        return bool(stems(claim)) and any(
            name not in sentence and support(claim, sentence) >= REFILE_SUPPORT
            for sentence in own_sentences(cited)
        )

    def fixed(text: str, cited: list[int]) -> list[str]:
        match = LEADING_NAME.match(text)
        if (
            match is None
            or not own_names
            or {w.lower() for w in match.group(1).split()} & own_names
        ):
            return [text]  # about the user, or maybe: with their name unknown, any name may be it
        name, claim = match.group(1), text[match.end() :]
        if own_claim(claim, name, cited):  # "Melanie's kids love..." keeps its possessive
            return [
                f"{user_name}'s {claim}" if name[-2:] in ("'s", "’s") else f"{user_name} {claim}"
            ]
        # "Klara started violin lessons, and she's allergic to cats.": two claims in one
        for joint in JOINED_CLAIM.finditer(claim):
            tail = ("is " if joint.group("be") else "") + claim[joint.end() :]
            if own_claim(tail, name, cited):
                return [f"{name} {claim[: joint.start()]}.", f"{user_name} {tail}"]
        return [text]

    analysis.user_facts = [(f, c) for t, c in analysis.user_facts for f in fixed(t, c)]


def drop_addressed_names(analysis: Analysis, pages: list[tuple[int, float, str, str]]) -> None:
    """A name the user greets or thanks ("Hey Gina!", "Thanks, Gina") is the other side's
    name, not the user's (LoCoMo, Qwen 1.5B: "name = Gina" for Jon, from his "Hey Gina!")."""
    said = " ".join(u for _, _, u, _ in pages)

    def addressed(value: str) -> bool:
        words = value.split()
        pattern = rf"\b{GREETING}\s+{re.escape(words[0])}\b" if words else ""
        return bool(pattern) and re.search(pattern, said, re.I) is not None

    analysis.profile = [
        p
        for p in analysis.profile
        if long_term.normalize_attribute(p[0]) not in NAME_ATTRIBUTES or not addressed(p[1])
    ]


# ", and I'm allergic to cats": a clause in the speaker's own voice joined to one about
# someone else.
OWN_CLAUSE = re.compile(rf"\s*[,;]\s*(?:and|but|so|while)\s+({SPEAKER_I}|my|My)\b")


def split_own_clauses(text: str) -> str:
    """A speaker's clause about themself made a sentence of its own, in the prompt only:
    "My daughter Klara started violin, and I'm allergic to cats" was stored as Klara's
    allergy by Qwen 1.5B in 3 chat sessions of 3; with the clauses apart, as the user's
    in 1 of 3 (in the other two the model's own answer had misread it: see
    `fix_self_statements`)."""
    return OWN_CLAUSE.sub(lambda m: f". {m.group(1).capitalize()}", text)


def analyse(scope: Scope, llm: LLM, job: jobs.Job, cancel: threading.Event | None = None) -> None:
    """Run one job: one call over its batch, applied with the job's done-marker."""
    store, owner = scope.store, scope.owner_id
    with store.lock:
        conn = store.conn
        current_profile = long_term.profile(conn, owner)
        known_lines = [f"{p.attribute.replace('_', ' ')} = {p.value}" for p in current_profile]
        fixed = prompts.analysis_messages(
            [], known_lines, _user_name(current_profile), zone=scope.settings.zone
        )
        pages = _batch(conn, owner, job, excerpt_room(llm, fixed), llm.count_tokens)
    if not pages:
        with store.transaction() as conn:
            jobs.finish(conn, job, "nothing to analyse")
        return
    # Only the profile is shown as known, in the shape the reply uses (an item repeated back
    # is the same item). Stored facts are not: Qwen 1.5B copied them back as new findings
    # instead of reading the pages, and never marked one as corrected. LoCoMo dev, 4
    # sessions of each conversation: 13 facts, fact recall 0.43 with the last 12 facts
    # shown; 43-47 facts, recall 0.57 with none. A fact said again merges in `add_fact`.
    # "yesterday" pinned to its date: the model copies a date more reliably than it counts.
    zone = scope.settings.zone

    def readable(text: str, ts: float) -> str:
        return split_own_clauses(pin_relative_dates(text, ts, zone))

    shown = [(pid, ts, readable(u, ts), readable(a, ts)) for pid, ts, u, a in pages]
    messages = prompts.analysis_messages(shown, known_lines, _user_name(current_profile), zone=zone)
    page_ids: set[int] = {p[0] for p in pages}

    # Free generation first: llama.cpp's grammar sampler checks the whole vocabulary at
    # every token (~1 tok/s against ~12 for Qwen 1.5B here). Only a reply with no JSON
    # object, or with no well-formed item, pays for the schema-constrained retry; one bad
    # item among good ones costs only itself.
    def ask(**sampling: Any) -> str:
        raw = llm.complete(messages, max_tokens=ANALYSIS_MAX_TOKENS, temperature=0.0, **sampling)
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        return raw

    try:
        analysis = read_reply(ask(repeat_penalty=ANALYSIS_REPEAT_PENALTY), page_ids)
    except ValueError:
        analysis = read_reply(ask(json_schema=reply_schema()), page_ids)
    excerpts = " ".join(f"{u} {a}" for _, _, u, a in pages)
    drop_copied_example(analysis, excerpts)
    drop_copied_turns(analysis, [*pages, *shown])  # as stored, and as the model read them
    drop_chat_lines(analysis)
    drop_courtesies(analysis, pages)
    drop_addressed_names(analysis, pages)  # before a name found here becomes a fact's subject
    subjects = fact_subjects(analysis, current_profile)
    cite_supporting_pages(analysis, pages, subjects)
    drop_unsupported(analysis, pages, excerpts, subjects)
    user_name = _user_name(current_profile) or next(iter(found_names(analysis)), "")
    drop_misattributed(analysis, pages, user_name)
    fix_self_statements(analysis, pages, user_name)
    texts = [t for t, _ in analysis.user_facts + analysis.assistant_facts]
    vecs: list[Any] = list(scope.embedder.embed(texts)) if texts else []
    page_ts = {p[0]: p[1] for p in pages}
    with store.transaction() as conn:
        if not jobs.still_mine(conn, job):
            return  # another process finished or reclaimed it: its result stands
        forgotten = page_store.existing_ids(conn, owner, sorted(page_ids)) != page_ids
        if forgotten:
            # What a forgotten page said may sit in any item of the reply (a fact citing
            # the wrong page, the summary): none of it is kept.
            jobs.give_back(conn, job)
        else:
            segment_id = job.target_id if job.kind == jobs.ANALYZE_SEGMENT else None
            apply_analysis(
                conn,
                owner,
                segment_id,
                analysis,
                vecs,
                page_ts,
                capacity=scope.settings.long_term_knowledge_capacity,
            )
            page_store.mark_analyzed(conn, sorted(page_ids))
            jobs.finish(conn, job)
            if job.kind == jobs.ANALYZE_PAGES and page_store.unanalysed_ids(
                conn, owner, job.target_id
            ):
                # More than one call's worth was queued: the next batch goes back in line.
                jobs.enqueue(conn, owner, jobs.ANALYZE_PAGES, job.target_id)
    if forgotten:
        raise PagesForgotten()


def apply_analysis(
    conn: Any,
    owner_id: int,
    segment_id: int | None,
    analysis: Analysis,
    vecs: list[Any],
    page_ts: dict[int, float],
    *,
    capacity: int,
) -> None:
    for attr, value, sources in analysis.profile:
        ts = max(page_ts.get(s, 0.0) for s in sources)
        long_term.upsert_profile(conn, owner_id, attr, value, sources, ts)
    kinds = [("user", f) for f in analysis.user_facts] + [
        ("assistant", f) for f in analysis.assistant_facts
    ]
    for (kind, (text, sources)), vec in zip(kinds, vecs, strict=True):
        ts = max(page_ts.get(s, 0.0) for s in sources)
        long_term.add_fact(conn, owner_id, kind, text, vec, sources, ts, capacity=capacity)
    if segment_id is not None:  # a batch of recent pages has no segment to summarize
        mid_term.analysed(conn, owner_id, segment_id, analysis.summary, analysis.keywords)
