"""The consolidation rules leave a log: what each analysis kept, and what each rule dropped,
moved or changed, with why (`memoryos memory why`). Any forget clears it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import fast_env, run

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import analysis_log, rules
from memoryos_cli.memory.analysis import Analysis

T0 = 1_700_000_000.0
SECRET = "Qwerty-4417"
PAGES = [
    ("Hey Gina! I ran the charity race on Saturday.", "Well done, that is a long race!"),
    (f"My locker code at the gym is {SECRET}.", "Noted, keep it safe."),
]
REPLY = {
    "user_facts": [
        "1: The user ran the charity race on Saturday.",  # kept
        "1: Alice: I ran the race, you know!",  # a chat line
        "1: Alice thanked Gina for the cheering.",  # a courtesy to the other side
        "1: Alice adopted a golden retriever puppy.",  # nothing on the page says so
        f"2: Alice: my locker code is {SECRET}, you know.",  # a chat line with a secret
        "1: Alice is Alice's name.",  # refused by the reply's own validation
    ],
    "assistant_facts": ["1: The assistant ran the charity race in Lisbon with friends."],
    "profile": ["1: name = Gina"],  # the name the user greets
}


@pytest.fixture
def analysed(home: Path) -> Memoryos:
    llm = ScriptedLLM()
    mem = Memoryos("alice", "assistant", home, llm_model=llm, embedder=HashingEmbedder())
    for i, (user, agent) in enumerate(PAGES):
        mem.add_memory(user, agent, timestamp=T0 + 60 * i)
    mem.end_session()
    llm.replies.append(json.dumps(REPLY))
    assert mem.consolidate() == 1
    return mem


def test_every_drop_names_its_rule_and_why(analysed: Memoryos) -> None:
    with analysed:
        notes = [e.note for e in analysed.analysis_log()]
        stored = [f.text for f in analysed.knowledge()]
    dropped = {n.item: n.rule for n in notes if n.action == "dropped"}
    assert dropped == {
        "Alice is Alice's name.": rules.REPLY_CHECK,
        "Alice: I ran the race, you know!": "chat_line",
        f"Alice: my locker code is {SECRET}, you know.": "chat_line",
        "Alice thanked Gina for the cheering.": "courtesy",
        "name = Gina": "addressed_name",
        "Alice adopted a golden retriever puppy.": "unsupported",
        "The assistant ran the charity race in Lisbon with friends.": "misattributed",
    }
    assert all(n.reason for n in notes if n.action == "dropped")
    kept = [n.item for n in notes if n.action == "kept"]
    assert kept == stored == ["The user ran the charity race on Saturday."]


def test_memory_why_without_a_ref_shows_the_last_analysis(
    analysed: Memoryos, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysed.close()
    env = fast_env(monkeypatch)
    out = run(env, "--home", str(home), "memory", "why").output
    rows = [" ".join(line.replace("│", " ").split()) for line in out.splitlines()]
    assert any(r.startswith("dropped by courtesy user Alice thanked Gina") for r in rows), out
    assert any(r.endswith("a courtesy to the other side (Gina)") for r in rows), out
    assert any(r.startswith("kept user The user ran the charity race") for r in rows), out
    assert "0% of its words in the pages it cites" in out
    data = json.loads(run(env, "--home", str(home), "memory", "why", "--json").output)
    [analysis] = data["analyses"]
    assert len(analysis["notes"]) == 8
    assert {"rule": "addressed_name", "action": "dropped", "kind": "profile"}.items() <= next(
        n for n in analysis["notes"] if n["item"] == "name = Gina"
    ).items()


def test_a_forget_clears_the_log_and_leaves_no_trace(
    analysed: Memoryos, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysed.close()
    env = fast_env(monkeypatch)
    run(env, "--home", str(home), "forget", "--match", SECRET, "--yes")
    assert "No analysis has run yet" in run(env, "--home", str(home), "memory", "why").output
    data = b""
    for suffix in ("", "-wal"):
        path = Path(str(home / "memoryos.db") + suffix)
        data += path.read_bytes() if path.exists() else b""
    assert SECRET.encode() not in data


def test_only_the_newest_analyses_are_kept(mem: Memoryos) -> None:
    note = rules.Note("chat_line", "dropped", "user", "x", "", "why")
    total = analysis_log.KEEP_ANALYSES + 3
    with mem.scope.writing() as conn:
        for job in range(1, total + 1):
            analysis_log.record(conn, mem.scope.owner_id, job, [note])
    assert [e.job_id for e in mem.analysis_log(100)] == list(range(4, total + 1))
    assert [e.job_id for e in mem.analysis_log()] == [total]


def test_a_moved_and_a_recited_item_are_noted() -> None:
    pages = [(1, 0.0, "Busy day.", "Ok."), (2, 0.0, "Next month I'm flying to Oslo.", "Enjoy!")]
    analysis = Analysis(assistant_facts=[("The assistant is flying to Oslo in June.", [1])])
    notes = rules.apply_rules(analysis, rules.Batch(pages, pages))
    assert [(n.rule, n.action, n.sources) for n in notes] == [
        ("cite_pages", "cited", (2,)),
        ("misattributed", "moved", (2,)),
    ]
    assert analysis.user_facts == [("The user is flying to Oslo in June.", [2])]
