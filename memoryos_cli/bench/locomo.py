"""LoCoMo: read the file, turn its dialogues into memoryos pages, pick questions.

Page construction (one page = one exchange, as memoryos stores chat):
- sessions are read in their numeric order; a session never shares a page with another;
- a speaker_a turn opens a page as `user_input`, the following speaker_b turn is its
  `agent_response`;
- consecutive turns of the same speaker are joined (newline) into the same side, so no
  turn is dropped and no page is half empty when someone sends two messages in a row;
  a session that starts with speaker_b gets a page with an empty `user_input`;
- each turn is written "Name: text" (both sides are people; questions name them), and a
  shared image becomes text: "[shares a photo of ...]" from its `blip_caption`;
- the timestamp is the session's `date_time`; `meta_data` keeps the turns' `dia_id`s.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memoryos_cli.errors import InvalidInputError

SCORED_CATEGORIES = (1, 2, 3, 4)
CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
SESSION_KEY = re.compile(r"^session_(\d+)$")
DIA_ID = re.compile(r"D\s*:?\s*(\d+)\s*:\s*(\d+)")
TIME_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%I:%M %p on %B %d, %Y")
# The dataset's times name no zone: read as UTC wall times (`parse_session_time`), they are
# stored in a memory whose days are UTC days too (its `timezone` setting), so a page shows
# the day the dataset gives it and the results do not move with the machine's zone.
TIMEZONE = "UTC"


@dataclass
class Exchange:
    """One future page: both sides, when it happened, and the LoCoMo turns it holds."""

    user_input: str
    agent_response: str
    when: dt.datetime
    dia_ids: list[str]
    session: int

    @property
    def meta(self) -> dict[str, Any]:
        return {"dia_ids": self.dia_ids, "session": self.session}


@dataclass
class Question:
    text: str
    answer: str
    category: int
    evidence: list[str]
    conversation: str = ""


@dataclass
class Observation:
    """A ground-truth fact LoCoMo lists for one speaker and session (`observation`)."""

    speaker: str
    text: str
    dia_ids: list[str]
    session: int


@dataclass
class Conversation:
    sample_id: str
    speaker_a: str
    speaker_b: str
    exchanges: list[Exchange]
    questions: list[Question] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)

    def sessions(self) -> list[list[Exchange]]:
        """The exchanges grouped by session, in order: one chat run each."""
        groups: dict[int, list[Exchange]] = defaultdict(list)
        for ex in self.exchanges:
            groups[ex.session].append(ex)
        return [groups[n] for n in sorted(groups)]


OBSERVATION_KEY = re.compile(r"^session_(\d+)_observation$")


def read_observations(raw: Any) -> list[Observation]:
    """`observation` as {session_N_observation: {speaker: [[text, dia_id(s)], ...]}};
    anything malformed is skipped (observations only grade consolidation)."""
    out: list[Observation] = []
    for key, speakers in (raw or {}).items() if isinstance(raw, dict) else []:
        match = OBSERVATION_KEY.match(str(key))
        if match is None or not isinstance(speakers, dict):
            continue
        for speaker, items in speakers.items():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, list) and item and isinstance(item[0], str):
                    ids = normalize_evidence(item[1:]) if len(item) > 1 else []
                    out.append(Observation(str(speaker), item[0], ids, int(match.group(1))))
    return out


def parse_session_time(value: Any) -> dt.datetime:
    """LoCoMo's "1:56 pm on 8 May, 2023" (or an ISO date) as an aware UTC datetime."""
    text = str(value).strip()
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"cannot read session date_time {text!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def normalize_evidence(raw: Any) -> list[str]:
    """Evidence turn ids as "D<session>:<turn>", also from sloppy entries ("D8:6; D9:17")."""
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        for session, turn in DIA_ID.findall(str(item)):
            out.append(f"D{int(session)}:{int(turn)}")
    return list(dict.fromkeys(out))


def turn_text(turn: dict[str, Any]) -> str:
    text = str(turn.get("text", "")).strip()
    caption = turn.get("blip_caption")
    if caption:
        text = f"{text} [shares {str(caption).strip()}]".strip()
    return f"{turn['speaker']}: {text}"


def session_exchanges(
    turns: list[dict[str, Any]], speaker_a: str, when: dt.datetime, number: int
) -> list[Exchange]:
    """The pages of one session (rules in the module docstring)."""
    out: list[Exchange] = []
    user: list[str] = []
    agent: list[str] = []
    ids: list[str] = []
    for turn in turns:
        if turn.get("speaker") == speaker_a:
            if agent:
                out.append(Exchange("\n".join(user), "\n".join(agent), when, ids, number))
                user, agent, ids = [], [], []
            user.append(turn_text(turn))
        else:
            agent.append(turn_text(turn))
        if turn.get("dia_id"):
            ids.append(str(turn["dia_id"]))
    if user or agent:
        out.append(Exchange("\n".join(user), "\n".join(agent), when, ids, number))
    return out


def build_exchanges(conversation: dict[str, Any]) -> list[Exchange]:
    """The pages of one LoCoMo conversation, session by session in numeric order."""
    sessions = sorted(
        (int(m.group(1)), key)
        for key in conversation
        if (m := SESSION_KEY.match(key)) and isinstance(conversation[key], list)
    )
    exchanges: list[Exchange] = []
    for number, key in sessions:
        when = parse_session_time(conversation.get(f"{key}_date_time", ""))
        exchanges += session_exchanges(conversation[key], conversation["speaker_a"], when, number)
    return exchanges


def _read_conversation(index: int, item: Any) -> Conversation:
    where = f"conversation {index + 1}"
    if not isinstance(item, dict) or not isinstance(item.get("conversation"), dict):
        raise InvalidInputError(f"{where}: expected an object with a 'conversation' object")
    conv = item["conversation"]
    for name in ("speaker_a", "speaker_b"):
        if not isinstance(conv.get(name), str):
            raise InvalidInputError(f"{where}: missing '{name}'")
    try:
        exchanges = build_exchanges(conv)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"{where}: a turn lacks 'speaker' or 'text' ({exc})") from exc
    if not exchanges:
        raise InvalidInputError(f"{where}: no session_N turn lists")
    sample_id = str(item.get("sample_id") or f"conv-{index + 1}")
    questions = []
    qa = item.get("qa", [])
    if not isinstance(qa, list):
        raise InvalidInputError(f"{where}: 'qa' must be a list")
    for q in qa:
        if not isinstance(q, dict) or "question" not in q or "category" not in q:
            raise InvalidInputError(f"{where}: each qa item needs 'question' and 'category'")
        try:
            category = int(q["category"])
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{where}: bad category {q['category']!r}") from exc
        if category not in SCORED_CATEGORIES:
            continue  # 5 = adversarial: not scored
        questions.append(
            Question(
                str(q["question"]),
                "" if q.get("answer") is None else str(q["answer"]),
                category,
                normalize_evidence(q.get("evidence", [])),
                sample_id,
            )
        )
    return Conversation(
        sample_id,
        conv["speaker_a"],
        conv["speaker_b"],
        exchanges,
        questions,
        read_observations(item.get("observation")),
    )


def load_locomo(path: Path | str) -> list[Conversation]:
    """Read a LoCoMo JSON file (a list of conversations); one clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"no LoCoMo file at {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not JSON ({exc})") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise InvalidInputError(f"{path}: expected a list of LoCoMo conversations")
    return [_read_conversation(i, item) for i, item in enumerate(data)]


def select_questions(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    """All questions, or a seeded subset of `limit` stratified by category (order kept)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    by_category: dict[int, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_category[q.category].append(i)
    rng = random.Random(seed)
    total = len(questions)
    quotas = {c: max(1, round(limit * len(ids) / total)) for c, ids in by_category.items()}
    while sum(quotas.values()) > limit:  # rounding overshoot: trim the largest
        biggest = max(quotas, key=lambda c: (quotas[c], c))
        quotas[biggest] -= 1
    chosen: list[int] = []
    for category in sorted(by_category):
        ids = list(by_category[category])
        rng.shuffle(ids)
        chosen += ids[: quotas[category]]
    return [questions[i] for i in sorted(chosen)]
