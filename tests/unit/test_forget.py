"""`forget` deletes exactly what its preview shows: one planner for both, a dry run first."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_support import T0, fast_env, open_mem, rows, run

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import MemoryosError
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import long_term

TABLES = {"p": "pages", "k": "knowledge", "u": "profile_items", "s": "segments"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Env:
    return fast_env(monkeypatch)


def moved(home: Path) -> None:
    """p1 says Paris (k1, u1); p2 says Berlin (k2 and u2 supersede them); k3 cites both."""
    with open_mem(home) as mem:
        mem.add_memory("I live in Paris, near the Seine.", "Lovely city!", T0)
        mem.add_memory("I moved to Berlin last month.", "Welcome to Berlin!", T0 + 3600)
        mem.add_memory("I like rainy walks.", "Me too.", T0 + 7200)
        vecs = mem.embedder.embed(["Lives in Paris", "Lives in Berlin", "Moves cities often"])
        with mem.store.transaction() as conn:
            owner = mem.scope.owner_id
            long_term.upsert_profile(conn, owner, "city", "Paris", [1], T0)
            long_term.upsert_profile(conn, owner, "city", "Berlin", [2], T0 + 3600)
            k1 = long_term.add_fact(conn, owner, "user", "Lives in Paris", vecs[0], [1], T0)
            long_term.add_fact(conn, owner, "user", "Lives in Berlin", vecs[1], [2], T0, [k1])
            long_term.add_fact(conn, owner, "user", "Moves cities often", vecs[2], [1, 2], T0)


def ids(home: Path) -> set[str]:
    """Every row that forget can delete, as refs."""
    return {
        f"{prefix}{r[0]}"
        for prefix, table in TABLES.items()
        for r in rows(home, f"SELECT id FROM {table}")
    }


def shown(output: str) -> list[tuple[str, str]]:
    """(id, change) of each row of the preview table."""
    cells = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return [(c[1].strip(), c[2].strip()) for c in cells]


def test_forgetting_a_page_keeps_facts_learned_from_other_pages(env: Env, home: Path) -> None:
    moved(home)
    out = run(env, "forget", "p2", "--yes").output
    assert rows(home, "SELECT id, text, superseded_by FROM knowledge ORDER BY id") == [
        (1, "Lives in Paris", None),  # came from p1: current again, as before p2
        (3, "Moves cities often", None),
    ]
    assert rows(home, "SELECT source_page_ids FROM knowledge WHERE id = 3") == [("[1]",)]
    assert rows(home, "SELECT id, value, superseded_by FROM profile_items") == [(1, "Paris", None)]
    assert shown(out) == [
        ("p2", "forget"),
        ("k1", "current again"),
        ("k2", "forget"),
        ("k3", "keep, cites p1"),
        ("u1", "current again"),
        ("u2", "forget"),
    ]
    assert out.splitlines()[-1] == "forgot 1 fact, 1 page, 1 profile item"


def test_an_older_version_replaces_the_forgotten_one_in_its_chain(home: Path) -> None:
    moved(home)
    with open_mem(home) as mem:
        vec = mem.embedder.embed(["Lives in Rome"])[0]
        with mem.store.transaction() as conn:  # p3 moves on again: k1 -> k2 -> k4
            long_term.add_fact(conn, mem.scope.owner_id, "user", "Lives in Rome", vec, [3], T0, [2])
        plan = mem.forget("p2", dry_run=True)
        assert [(c.ref, c.action) for c in plan.changes if c.ref[0] == "k"] == [
            ("k1", "history of k4"),
            ("k2", "forget"),
            ("k3", "keep, cites p1"),
        ]
        mem.forget("p2")
        assert [(f.id, f.superseded_by) for f in mem.knowledge(history=True)] == [
            (1, 4),
            (3, None),
            (4, None),
        ]


@pytest.mark.parametrize(
    "how", [("p1",), ("p2",), ("k2",), ("k1",), ("u2",), ("--match", "berlin"), ("--all",)]
)
def test_the_preview_is_exactly_what_goes(env: Env, home: Path, how: tuple[str, ...]) -> None:
    moved(home)
    before = ids(home)
    with open_mem(home) as mem:
        if how[0] == "--all":
            plan = mem.forget_all(dry_run=True)
        elif how[0] == "--match":
            plan = mem.forget_matching(how[1], dry_run=True)
        else:
            plan = mem.forget(how[0], dry_run=True)
    assert ids(home) == before  # a dry run changes nothing
    previewed = {c.ref for c in plan.changes if c.action == "forget"}
    out = run(env, "forget", *how, "--yes").output
    assert before - ids(home) == previewed
    if how[0] != "--all":  # --all shows one line of counts
        assert {r for r, change in shown(out) if change == "forget"} == previewed


def test_a_changed_memory_refuses_the_previewed_delete(home: Path) -> None:
    moved(home)
    with open_mem(home) as mem:
        plan = mem.forget("p2", dry_run=True)
        vec = mem.embedder.embed(["Works in Berlin"])[0]
        with mem.store.transaction() as conn:  # another writer learns from p2 meanwhile
            long_term.add_fact(conn, mem.scope.owner_id, "user", "Works in Berlin", vec, [2], T0)
        before = ids(home)
        with pytest.raises(MemoryosError, match="changed since the preview"):
            mem.forget("p2", expect=plan)
        assert ids(home) == before
        assert mem.forget("p2", expect=mem.forget("p2", dry_run=True))["facts"] == 2


def test_a_matched_segment_summary_is_rebuilt(home: Path) -> None:
    with Memoryos(
        "alice",
        "assistant",
        home,
        llm_model="none",
        embedder=HashingEmbedder(),
        short_term_capacity=1,
    ) as mem:
        for i in range(3):
            mem.add_memory(f"hiking trip number {i} in the Alps", "great", T0 + i)
        sid = mem.segments()[0].id
        mem.store.conn.execute(
            "UPDATE segments SET summary = 'Alice hikes with Zorbala', summary_source = 'llm'"
        )
        plan = mem.forget_matching("zorbala", dry_run=True)
        assert plan.rebuilt_segments == (sid,) and not plan.pages
        mem.forget_matching("zorbala", expect=plan)
        seg = mem.segments()[0]
        assert seg.summary_source == "keywords" and "zorbala" not in seg.summary.lower()


def test_match_folds_case_in_every_script(home: Path) -> None:
    """SQLite's LIKE folds ASCII only: `--match MÜNCHEN` found nothing in "Ich wohne in
    München" and said so, and the user thought it gone."""
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=HashingEmbedder()) as mem:
        mem.add_memory("Ich wohne in München und liebe Café Ölberg.", "Schön!", T0)
        mem.add_memory("Something else entirely.", "Ok.", T0 + 1)
        mem.add_memory("E\u0301milie Secretname called.", "Ok.", T0 + 2)  # É as E + an accent
        mem.set_profile("city", "München")
        assert len(mem.forget_matching("\u00c9milie", dry_run=True).pages) == 1  # É typed whole
        mem.forget_matching("émilie", expect=mem.forget_matching("émilie", dry_run=True))
        for needle in ("MÜNCHEN", "CAFÉ", "ölberg"):
            plan = mem.forget_matching(needle, dry_run=True)
            assert len(plan.pages) == 1, needle
        assert len(mem.forget_matching("MÜNCHEN", dry_run=True).profile_items) == 1
        mem.forget_matching("MÜNCHEN", expect=mem.forget_matching("MÜNCHEN", dry_run=True))
        assert [p.user_input for p in mem.pages()] == ["Something else entirely."]
        assert mem.profile() == []


# -- the chat's input history ---------------------------------------------------------------


def typed(home: Path, *lines: str) -> Path:
    """A history file as `memoryos chat` (prompt-toolkit's FileHistory) writes it."""
    from prompt_toolkit.history import FileHistory

    home.mkdir(parents=True, exist_ok=True)
    history = FileHistory(str(home / "history"))
    for line in lines:
        history.store_string(line)
    return home / "history"


def entries(path: Path) -> list[str]:
    from prompt_toolkit.history import FileHistory

    return list(reversed(list(FileHistory(str(path)).load_history_strings())))


def test_forget_match_removes_the_typed_lines(env: Env, home: Path) -> None:
    moved(home)
    path = typed(home, "hello", "my PIN is 4417\nplease keep it", "what's the weather", "pin 4417?")
    out = run(env, "forget", "--match", "4417", "--yes").output
    assert entries(path) == ["hello", "what's the weather"]
    assert b"4417" not in path.read_bytes()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ("history", "forget") in shown(out)
    assert out.splitlines()[-1] == "forgot 2 history entries"


def test_forgetting_a_page_removes_the_line_typed_for_it(env: Env, home: Path) -> None:
    """`/forget p1` in the chat left "I live in Paris..." in the input history, where the
    up-arrow brought it back (found by trying it)."""
    moved(home)
    path = typed(home, "I live in Paris, near the Seine.", "I like rainy walks.", "Paris?")
    preview = run(env, "forget", "p1", input="n\n", ok=False).output
    assert ("history", "forget") in shown(preview)
    assert len(entries(path)) == 3  # declined: nothing changed
    out = run(env, "forget", "p1", "--yes").output
    assert entries(path) == ["I like rainy walks.", "Paris?"]  # only the page's own line
    assert b"Seine" not in path.read_bytes()
    assert "1 history entry" in out.splitlines()[-1]


def test_forget_all_clears_the_typed_lines(home: Path) -> None:
    moved(home)
    path = typed(home, "my secret plans", "bye")
    with open_mem(home) as mem:
        counts = mem.forget_all()
        assert path.read_bytes() == b""
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert counts == {"pages": 3, "facts": 3, "profile_items": 2, "history_entries": 2}
        typed(home, "again", "and again")
        assert mem.forget_all(dry_run=True).history_entries == 2
        assert len(entries(path)) == 2  # a dry run changes nothing


@pytest.mark.parametrize("forget", ["ref", "match"])
def test_forget_wins_a_race_with_a_running_analysis(home: Path, forget: str) -> None:
    """A page forgotten while the model reads it leaves nothing behind: the reply, which
    cites it (or cites the wrong page), is dropped and the job reruns on the pages left."""
    reading, release = threading.Event(), threading.Event()
    replies = []

    def blocked_reply(messages: list[Any]) -> str:
        shown = messages[-1]["content"]
        replies.append(shown)
        if len(replies) == 1:
            reading.set()
            assert release.wait(10)
        facts = []
        if "diabetes" in shown:  # the wrong page cited: forget must still win
            facts.append("2: The user has a secret diagnosis of diabetes.")
        if "violin" in shown:
            facts.append("2: The user plays the violin on Sundays.")
        return json.dumps(
            {"user_facts": facts, "assistant_facts": [], "profile": [], "summary": "x"}
        )

    llm = ScriptedLLM(default=blocked_reply)
    with Memoryos("alice", "assistant", home, llm_model=llm, embedder=HashingEmbedder()) as mem:
        secret = mem.add_memory("I got a secret diagnosis of diabetes.", "I am sorry.", T0)
        mem.add_memory("I play the violin on Sundays.", "Lovely.", T0 + 60)
        assert mem.end_session()
        worker = threading.Thread(target=mem.consolidate)
        worker.start()
        assert reading.wait(10)
        if forget == "ref":
            mem.forget(f"p{secret}")
        else:
            mem.forget_matching("diabetes")
        release.set()
        worker.join(10)
        assert not worker.is_alive()
        facts = [f.text for f in mem.knowledge(history=True)]
        assert not any("diabetes" in f for f in facts), facts
        # the job ran again over the page left, which the second reply read alone
        assert "diabetes" not in replies[-1] and len(replies) == 2
        assert facts == ["The user plays the violin on Sundays."]
        assert mem.pending_jobs() == 0


@pytest.mark.parametrize(
    ("counts", "said"),
    [
        ({"facts": 1, "pages": 3}, "1 fact, 3 pages"),
        ({"history_entries": 1, "profile_items": 2}, "1 history entry, 2 profile items"),
        ({"history_entries": 2, "segments": 1}, "2 history entries, 1 segment"),
        ({"pages": 0}, "nothing"),
    ],
)
def test_what_a_forget_counts_reads_as_words(counts: dict[str, int], said: str) -> None:
    from memoryos_cli.cli.words import counts_line

    assert counts_line(counts) == said
