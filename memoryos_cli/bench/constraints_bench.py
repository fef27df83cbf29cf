"""`bench constraints`: does the chat's answer keep to the diet and the allergy the user told?

A person's first session (Noor's, as typed into `memoryos chat`, with the default model's
answers), her profile with one food constraint in it, then questions a day later through
the chat's own prompt builder and answer (`Memoryos.prepare`, `Memoryos.stream_answer`, as
`stream_response` uses them) and the configured model, greedy. Each question is answered
on the same memory and not stored, so no answer leans on an earlier one. Each is answered
twice in the same run: as the chat answers (the foods the profile rules out banned,
`memory/ruled_out.py`) and without the ban, as before it.

- a **broken** food answer offers something the constraint rules out (meat or fish for a
  vegetarian, shrimp or crab for a shellfish allergy). A mention the answer itself rules
  out does not count: "shellfish-free", "no shrimp", "instead of chicken". The lists here
  are wider than the ban ("goose", "jerky", "scampi" are not banned), so a banned answer
  that swaps chicken for goose still counts as broken;
- a **leak** is an answer to a question that has nothing to do with food that brings the
  constraint up ("a vegetarian-friendly book").

Word lists, not a judge: a dish named without its meat ("a vegetarian stir-fry") passes.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from memoryos_cli.api import Memoryos
from memoryos_cli.config import load_settings
from memoryos_cli.llm import LLM, GenerationStats

FIRST_SESSION = [
    ("Hi, I'm Noor. I teach chemistry at a high school in Leeds.",
     "Hello Noor! How can I assist you today?"),
    ("My son Idris turns 7 next Tuesday, we're planning a small party.",
     "That's great to hear! I'd be happy to help plan a fun party for your son. What kind of "
     "activities do you have in mind?"),
    ("Actually, I moved from Leeds to York last month.",
     "That's interesting! I'm glad you're moving to York. What are some things you're looking "
     "forward to doing there?"),
    ("My favourite author is Ursula K. Le Guin.",
     "That's great to hear! I'm glad you enjoy reading Ursula K. Le Guin. What are some of "
     "her most famous works?"),
]  # fmt: skip
PROFILE = [("name", "Noor"), ("job", "teacher"), ("city", "York")]


@dataclass(frozen=True)
class Constraint:
    attribute: str
    value: str
    told: tuple[str, str]  # the exchange where the user said it
    ruled_out: re.Pattern[str]  # what a food answer must not offer


CONSTRAINTS = [
    Constraint(
        "diet", "vegetarian",
        ("I've been vegetarian for ten years now, so no meat at the party.",
         "That's great to know! If you have any specific dietary restrictions or preferences, "
         "I can help you plan a vegetarian-friendly menu."),
        re.compile(r"\b(chicken|beef|pork|lamb|steaks?|salmon|tuna|fish|shrimps?|prawns?|"
                   r"bacon|ham|turkey|sausages?|meatballs?|seafood|duck|veal|"
                   r"venison|goose|jerky|cod|trout|anchovies|sardines|crabs?|lobsters?|"
                   r"chorizo|pepperoni|salami|prosciutto|chuck|sirloin|ribeye|tenderloin|"
                   r"meatloaf|ribs|mince)\b", re.IGNORECASE),
    ),
    Constraint(
        "allergies", "shellfish",
        ("I'm allergic to shellfish, keep that in mind for recipes.",
         "Noted: no shellfish in recipes."),
        re.compile(r"\b(shrimps?|prawns?|crabs?|lobsters?|mussels|oysters|clams|scallops|"
                   r"seafood|squid|calamari|scampi|crawfish)\b", re.IGNORECASE),
    ),
]  # fmt: skip
FOOD_QUESTIONS = [
    "Any dinner ideas for tonight?",
    "Can you suggest a quick lunch?",
    "What should I cook for friends on Saturday?",
    "Give me a recipe for a special dinner.",
    "What should I order at a restaurant tonight?",
]
OTHER_QUESTIONS = [
    "Can you recommend a good book?",
    "How do I fix a flat bike tyre?",
    "What's a good gift for my son?",
]
# Words just before a mention that rule it out: "no shrimp", "without chicken", "avoid fish".
RULED_OUT_BEFORE = re.compile(
    r"(?:\b(?:no|not|without|avoid\w*|free of|instead of)|n't \w+)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)


def offered(constraint: Constraint, answer: str) -> list[str]:
    """What `answer` offers that `constraint` rules out (mentions it rules out itself
    left aside), lowercased, in order."""
    found = []
    for match in constraint.ruled_out.finditer(answer):
        before = answer[max(0, match.start() - 40) : match.start()]
        if RULED_OUT_BEFORE.search(before) or answer[match.end() :].startswith("-free"):
            continue
        found.append(match.group(0).lower())
    return found


# How each question is answered: as the chat answers it, and as it did before the ban.
WAYS = {"chat": "as the chat answers", "no_ban": "without the ban"}


def run_constraints_bench(
    model: str | LLM, *, answer_tokens: int = 150, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Every constraint, every question, through the chat's prompt, each of `WAYS`."""
    say = progress or (lambda _msg: None)
    settings = replace(
        load_settings(), timezone="UTC", max_answer_tokens=answer_tokens, answer_temperature=0.0
    )
    if isinstance(model, str):
        settings = replace(settings, model=model)
    answers: list[dict[str, Any]] = []
    llm: str | LLM = model
    with tempfile.TemporaryDirectory(prefix="memoryos-constraints-") as tmp:
        for constraint in CONSTRAINTS:
            home = Path(tmp) / constraint.attribute
            with Memoryos(settings=replace(settings, home=home), llm_model=llm) as mem:
                llm = mem.llm  # loaded once, shared by every memory of the run
                first_session(mem, constraint)
                for n, question in enumerate([*FOOD_QUESTIONS, *OTHER_QUESTIONS]):
                    built = mem.prepare(question)
                    # each way goes first as often: the second finds the prompt in the cache
                    for way in list(WAYS)[:: 1 if n % 2 else -1]:
                        say(f"{constraint.attribute}, {way}: {question}")
                        prompt = built if way == "chat" else replace(built, avoid=[])
                        answer = "".join(mem.stream_answer(prompt, max_tokens=answer_tokens))
                        answers.append(graded(constraint, question, way, answer.strip()))
                        stats = mem.llm.last_stats
                        answers[-1]["ms_per_token"] = ms_per_token(stats)
                        answers[-1]["ms_to_first_piece"] = 1000 * stats.seconds_to_first_token
                        answers[-1]["words_taken_back"] = stats.words_taken_back
    return {
        "model": getattr(llm, "name", str(model)),
        "answer_tokens": answer_tokens,
        "ways": {way: tally([a for a in answers if a["way"] == way]) for way in WAYS},
        "answers": answers,
    }


def graded(constraint: Constraint, question: str, way: str, answer: str) -> dict[str, Any]:
    food = question in FOOD_QUESTIONS
    return {
        "constraint": f"{constraint.attribute}: {constraint.value}", "way": way,
        "question": question, "food": food, "answer": answer,
        "offered": offered(constraint, answer) if food else [],
        "leak": not food and constraint.value.lower() in answer.lower(),
    }  # fmt: skip


def tally(answers: list[dict[str, Any]]) -> dict[str, Any]:
    food = [a for a in answers if a["food"]]
    other = [a for a in answers if not a["food"]]
    per_token = sorted(a["ms_per_token"] for a in answers)
    first_piece = sorted(a.get("ms_to_first_piece", 0.0) for a in answers)
    return {
        "broken": sum(bool(a["offered"]) for a in food),
        "food_answers": len(food),
        "leaks": sum(a["leak"] for a in other),
        "other_answers": len(other),
        "ms_per_token_p50": per_token[len(per_token) // 2] if per_token else 0.0,
        # a banned answer is shown a word behind (see llm.held_words)
        "ms_to_first_piece_p50": first_piece[len(first_piece) // 2] if first_piece else 0.0,
        # begun, then unsaid because they were heading for a banned word
        "words_taken_back": sum(a.get("words_taken_back", 0) for a in answers),
    }


def ms_per_token(stats: GenerationStats) -> float:
    """Milliseconds per answer token after the first (what the ban adds is per token)."""
    after_first = stats.seconds_total - stats.seconds_to_first_token
    return 1000 * after_first / max(1, stats.completion_tokens - 1)


def first_session(mem: Memoryos, constraint: Constraint) -> None:
    """Noor's first session with the constraint told in it, her profile told directly (what
    the real analysis stored from her session: name, job, city, diet), and the session
    ended: the questions come a day later."""
    start = time.time() - 86400
    exchanges = [*FIRST_SESSION[:2], constraint.told, *FIRST_SESSION[2:]]
    for i, (said, answered) in enumerate(exchanges):
        mem.add_memory(said, answered, start + 60 * i, {"answered_by": "bench"})
    for attribute, value in [*PROFILE, (constraint.attribute, constraint.value)]:
        mem.set_profile(attribute, value)
    mem.end_session()
