"""The inspection commands, driven like a user would, against a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_support import T0, fast_env, rows, run, seed
from typer.testing import CliRunner

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import app
from memoryos_cli.cli.env import Env
from memoryos_cli.cli.reference import shown
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import EmbedderMismatchError, InvalidInputError, NotFoundError
from memoryos_cli.memory import reindex as reindexing


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Env:
    return fast_env(monkeypatch)


def test_every_command_has_help(env: Env) -> None:
    root = typer.main.get_command(app)
    seen = []

    def walk(cmd: Any, path: list[str]) -> None:
        assert (cmd.help or "").strip(), f"`{' '.join(path)}` has no help"
        # the summary in a command list is the first paragraph: one line, or rich breaks it
        summary = cmd.help.strip().split("\n\n")[0]
        assert "\n" not in summary, f"`{' '.join(path)}`: a one-line first paragraph"
        # rich reads help as markup: an unescaped "[short|mid|long]" would vanish from it
        for text in [cmd.help, *(getattr(p, "help", None) or "" for p in cmd.params)]:
            assert shown(text) == text.replace("\\[", "["), f"`{' '.join(path)}`: {text!r}"
        seen.append(" ".join(path))
        result = run(env, *path[1:], "--help")
        assert "Usage:" in result.output
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, ["memoryos"])
    # a docstring's line breaks are not the help's: rich kept them, so a paragraph broke
    # after "only from" wherever the source line ended
    wide = CliRunner().invoke(app, ["forget", "--help"], obj=env, env={"COLUMNS": "160"})
    assert "what was learned only from them go; a fact that other pages" in wide.output
    for name in (
        "memoryos profile show",
        "memoryos memory why",
        "memoryos config set",
        "memoryos search",
        "memoryos forget",
        "memoryos reindex",
        "memoryos import",
    ):
        assert name in seen  # fmt: skip


def test_add_and_remember_write_rows(env: Env, home: Path) -> None:
    out = run(env, "add", "--user-input", "I adopted a cat", "--response", "Congrats!",
              "--timestamp", "2024-05-01T14:30").output  # fmt: skip
    assert out == "stored p1 (2024-05-01 14:30, short-term)\n"
    assert rows(home, "SELECT user_input, agent_response, ts, tier FROM pages") == [
        ("I adopted a cat", "Congrats!", T0, "short")
    ]
    out = run(env, "remember", "Allergic to peanuts").output
    assert out == "remembered k1\n"
    out = run(env, "remember", "--assistant", "I promised a recipe").output
    assert out == "remembered k2\n"
    assert rows(home, "SELECT id, kind, text FROM knowledge ORDER BY id") == [
        (1, "user", "Allergic to peanuts"),
        (2, "assistant", "I promised a recipe"),
    ]


@pytest.mark.parametrize(
    ("args", "error", "says"),
    [
        (("forget", "p99999999999999999999999", "--yes"), NotFoundError, "no page p99999"),
        (("memory", "segment", "s99999999999999999999999"), NotFoundError, "no segment s99999"),
        # Python's words: "year 0 is out of range", of the year 1 typed
        (("add", "--user-input", "hi", "--response", "ok", "--timestamp", "0001-01-01"),
         InvalidInputError, "is out of range: from the year 1900 to 8999"),
        (("add", "--user-input", "hi", "--response", "ok", "--timestamp", "nan"),
         InvalidInputError, "out of range"),
        # shown in UTC it was a day; in Tokyo, year 0, and `memory short` failed
        (("add", "--user-input", "hi", "--response", "ok", "--timestamp", "0001-01-01T12:00Z"),
         InvalidInputError, "from the year 1900 to 8999"),
        # a typo'd year made every segment "just visited" until 2062, even once forgotten
        (("add", "--user-input", "hi", "--response", "ok", "--timestamp", "2062-12-01T10:00"),
         InvalidInputError, "is in the future"),
        (("add", "--user-input", "  ", "--response", "ok"), InvalidInputError, "is empty"),
        (("search", " "), InvalidInputError, "the query is empty"),
        # "" was the default user: an unset variable in a script wrote into their memory
        (("--user", "", "add", "--user-input", "hi", "--response", "ok"), InvalidInputError,
         "user_id cannot be empty"),
        (("--assistant", "", "add", "--user-input", "hi", "--response", "ok"),
         InvalidInputError, "assistant_id cannot be empty"),
        # an empty --home was the working folder: a memory made wherever the script ran
        (("--home", "", "add", "--user-input", "hi", "--response", "ok"), InvalidInputError,
         "--home is empty"),
        (("mcp", "--home", " "), InvalidInputError, "--home is empty"),
    ],
)  # fmt: skip
def test_input_at_the_edges_is_one_clear_error_and_changes_nothing(
    env: Env,
    home: Path,
    args: tuple[str, ...],
    error: type[Exception],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each of these was an OverflowError, a ValueError, a blank page or every memory listed."""
    seed(home)
    monkeypatch.chdir(tmp_path)  # where an empty --home wrote
    before = rows(home, "SELECT id, user_input, ts FROM pages ORDER BY id")
    result = run(env, *args, ok=False)
    assert isinstance(result.exception, error) and says in str(result.exception)
    assert rows(home, "SELECT id, user_input, ts FROM pages ORDER BY id") == before


def test_add_rejects_bad_timestamp(env: Env, home: Path) -> None:
    result = run(
        env, "add", "--user-input", "x", "--response", "y", "--timestamp", "soon", ok=False
    )
    assert isinstance(result.exception, InvalidInputError)
    assert rows(home, "SELECT COUNT(*) FROM pages") == [(0,)]


def test_user_text_is_never_markup(env: Env) -> None:
    run(env, "add", "--user-input", "[bold red]not markup[/] [link=x]", "--response", "[/]ok")
    out = run(env, "memory", "short").output
    assert "[bold red]not markup[/] [link=x]" in out
    assert "[/]ok" in out
    out = run(env, "search", "markup").output
    assert "[bold red]not markup[/]" in out


def test_memory_short(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "memory", "short", "--json").output)
    assert [p["ref"] for p in data] == [f"p{i}" for i in range(3, 10)]
    assert data[0]["user_input"] == "Let me tell you about my sister Anna's wedding."
    assert data[0]["tier"] == "short"
    out = run(env, "memory", "short").output
    assert out.splitlines()[0].rstrip() == "Short-term (7/7)"
    assert "│ p9 │ 2024-05-01 22:30 │ Let me tell you about learning Portuguese." in out


def test_memory_mid_shows_heat_and_components(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "memory", "mid", "--json").output)
    assert len(data) >= 1
    seg = data[0]
    assert {"ref", "heat", "n_visit", "l_interaction", "recency", "page_count"} <= set(seg)
    assert seg["heat"] == pytest.approx(seg["n_visit"] + seg["l_interaction"] + seg["recency"])
    out = run(env, "memory", "mid").output
    assert out.splitlines()[0].startswith("Mid-term (")
    assert "analysis at heat 5" in out
    assert f"{seg['heat']:.2f}" in out and "░" in out
    for col in ("N_visit", "L_interaction", "recency"):
        assert col in out


def test_memory_segment_accepts_both_ids(env: Env, home: Path) -> None:
    seed(home)
    a = json.loads(run(env, "memory", "segment", "s1", "--json").output)
    b = json.loads(run(env, "memory", "segment", "1", "--json").output)
    assert a == b
    assert [p["ref"] for p in a["pages"]] == ["p1", "p2"]  # both about hiking
    out = run(env, "memory", "segment", "s1").output
    assert "s1 · 2 page(s)" in out
    assert "User: Let me tell you about hiking in the Alps." in out
    assert "p1 · 2024-05-01 14:30 · mid, s1" in out
    missing = run(env, "memory", "segment", "s99", ok=False)
    assert isinstance(missing.exception, NotFoundError)
    bad = run(env, "memory", "segment", "x1", ok=False)
    assert isinstance(bad.exception, InvalidInputError)


def test_memory_long_and_profile(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "memory", "long", "--json").output)
    assert [f["text"] for f in data["user_knowledge"]] == ["Works as a nurse"]
    assert data["assistant_knowledge"] == []
    assert [(p["attribute"], p["value"]) for p in data["profile"]] == [("occupation", "nurse")]
    out = run(env, "memory", "long").output
    assert "User knowledge (1/100)" in out and "Works as a nurse" in out
    assert "Assistant knowledge (0/100)" in out
    shown = json.loads(run(env, "profile", "show", "--json").output)
    assert [(p["ref"], p["value"], p["evidence_count"]) for p in shown] == [("u2", "nurse", 1)]
    out = run(env, "profile", "show").output
    assert "│ u2 │ occupation │ nurse │ 1" in out


def test_profile_history_shows_superseded_values(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "profile", "history", "--json").output)
    assert [(p["ref"], p["value"], p["superseded_by"]) for p in data["profile"]] == [
        ("u1", "teacher", 2),
        ("u2", "nurse", None),
    ]
    assert [(f["ref"], f["superseded_by"]) for f in data["knowledge"]] == [("k1", 2), ("k2", None)]
    out = run(env, "profile", "history").output
    lines = out.splitlines()
    teacher = next(line for line in lines if "teacher" in line and "u1" in line)
    assert "2024-05-01 17:30" in teacher and "superseded by u2" in teacher and "p4" in teacher
    nurse = next(line for line in lines if "│ u2" in line)
    assert "current" in nurse and "p5" in nurse
    assert any("k1" in line and "superseded by k2" in line for line in lines)


def test_memory_why_shows_the_source_exchange(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "memory", "why", "k2", "--json").output)
    assert data["item"]["text"] == "Works as a nurse"
    assert [p["ref"] for p in data["sources"]] == ["p5"]
    out = run(env, "memory", "why", "u1").output
    assert "u1 · evidence 1 · superseded by u2" in out
    assert "occupation: teacher" in out
    assert "User: Let me tell you about a job as a teacher." in out
    out = run(env, "remember", "Likes tea").output
    assert run(env, "memory", "why", "k3").output.endswith(
        "No source exchanges: it was remembered explicitly.\n"
    )
    assert isinstance(run(env, "memory", "why", "k99", ok=False).exception, NotFoundError)
    assert isinstance(run(env, "memory", "why", "p1", ok=False).exception, InvalidInputError)
    wrong = run(env, "memory", "why", "zz", ok=False).exception
    assert str(wrong) == "'zz' is not a fact or profile item id; use k3 or u4"  # not p12 or s5


def test_search_previews_without_heating(env: Env, home: Path) -> None:
    seed(home)
    before = rows(home, "SELECT id, n_visit, last_visit_ts FROM segments ORDER BY id")
    data = json.loads(run(env, "search", "hiking Alps", "--json").output)
    assert set(data) == {"query", "short", "mid", "knowledge"}
    assert data["mid"][0]["ref"] == "p1"
    assert data["mid"][0]["tier"] == "mid" and data["mid"][0]["ts"] == T0
    only = json.loads(run(env, "search", "nurse", "--tier", "knowledge", "--json").output)
    assert set(only) == {"query", "knowledge"}
    assert only["knowledge"][0]["ref"] == "k2"
    out = run(env, "search", "hiking Alps", "--tier", "mid", "-k", "1").output
    assert out.splitlines()[0].rstrip() == "mid (1, best first)"
    header = next(line for line in out.splitlines() if "similarity" in line)
    assert header.split()[1:6:2] == ["id", "score", "judge"]  # the order's own score shown
    assert "p1" in out and "2024-05-01 14:30" in out
    assert rows(home, "SELECT id, n_visit, last_visit_ts FROM segments ORDER BY id") == before
    bad = run(env, "search", "x", "--tier", "long", ok=False)
    assert isinstance(bad.exception, InvalidInputError)


def test_forget_one_page_asks_first(env: Env, home: Path) -> None:
    seed(home)
    kept = run(env, "forget", "p4", input="n\n", ok=False)
    assert kept.exit_code == 1
    assert "Will be forgotten" in kept.output and "k1" in kept.output and "u1" in kept.output
    assert "kept everything" in kept.output
    assert rows(home, "SELECT COUNT(*) FROM pages WHERE id = 4") == [(1,)]
    unanswered = run(env, "forget", "p4", input="", ok=False)  # no terminal: end of input
    assert unanswered.exit_code == 1 and "add --yes to forget without asking" in unanswered.output
    assert rows(home, "SELECT COUNT(*) FROM pages WHERE id = 4") == [(1,)]
    out = run(env, "forget", "p4", input="y\n").output
    assert "Forget these for good? [y/N]: y" in out
    assert out.splitlines()[-1] == "forgot 1 fact, 1 page, 1 profile item"
    assert rows(home, "SELECT COUNT(*) FROM pages WHERE id = 4") == [(0,)]
    assert rows(home, "SELECT id FROM knowledge") == [(2,)]  # k1 cited p4; k2 cites p5
    assert isinstance(run(env, "forget", "p4", "--yes", ok=False).exception, NotFoundError)


def test_forget_match_and_all(env: Env, home: Path) -> None:
    seed(home)
    out = run(env, "forget", "--match", "Lisbon", "--yes").output
    assert "p8" in out
    assert out.splitlines()[-1] == "forgot 1 page"
    assert rows(home, "SELECT COUNT(*) FROM pages WHERE user_input LIKE '%Lisbon%'") == [(0,)]
    none = run(env, "forget", "--match", "zebra", "--yes", ok=False)
    assert isinstance(none.exception, NotFoundError)
    assert str(none.exception) == "nothing in this memory matches 'zebra'"
    out = run(env, "forget", "--all", "--yes").output
    assert "8 pages" in out
    for table in ("pages", "segments", "knowledge", "profile_items", "jobs"):
        assert rows(home, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    both = run(env, "forget", "p1", "--all", ok=False)
    assert isinstance(both.exception, InvalidInputError)


def test_forget_leaves_no_trace_in_the_file(env: Env, home: Path) -> None:
    seed(home)
    secret = "Zyxwvut-secret-passphrase"
    run(env, "add", "--user-input", f"my password is {secret}", "--response", "noted")
    run(env, "remember", f"Password is {secret}")
    for _ in range(8):  # push the page into mid-term so segments and FTS carry it too
        run(env, "add", "--user-input", "filler talk about weather", "--response", "ok")
    run(env, "forget", "--match", secret, "--yes")
    data = b""
    for suffix in ("", "-wal"):
        path = Path(str(home / "memoryos.db") + suffix)
        if path.exists():
            data += path.read_bytes()
    assert secret.encode() not in data
    assert secret.lower().encode() not in data


def test_stats(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "stats", "--json").output)
    assert data["pages"] == 9 and data["short_term"] == 7 and data["user_knowledge"] == 1
    assert data["embedder"] == "hashing-test"
    out = run(env, "stats").output
    assert "│ pages" in out and "│ 9" in out


def test_stats_counts_the_write_ahead_log_on_a_new_memory(env: Env, home: Path) -> None:
    """A new memory's tables sit in its -wal file until a checkpoint: the file alone was
    4 KB where the memory took 290."""
    data = json.loads(run(env, "stats", "--json").output)
    assert data["db_bytes"] > 64 * 1024


def test_profile_set_tells_a_trait_and_a_new_value_supersedes_it(env: Env, home: Path) -> None:
    seed(home)
    assert run(env, "profile", "set", "diet", "vegetarian").output.endswith(": diet = vegetarian\n")
    run(env, "profile", "set", "Diet", "vegan")
    current = json.loads(run(env, "profile", "show", "--json").output)
    assert [(i["attribute"], i["value"]) for i in current if i["attribute"] == "diet"] == [
        ("diet", "vegan")
    ]
    history = run(env, "profile", "history").output
    assert "vegetarian" in history and "vegan" in history
    empty = run(env, "profile", "set", "diet", "  ", ok=False)
    assert isinstance(empty.exception, InvalidInputError)


def test_free_text_needs_no_quotes(env: Env, home: Path) -> None:
    """`memoryos search hike snack` is what people type; a shell splits it into words."""
    seed(home)
    ref = run(env, "remember", "Allergic", "to", "peanuts").output.split()[-1]
    assert rows(home, f"SELECT text FROM knowledge WHERE id = {ref[1:]}") == [
        ("Allergic to peanuts",)
    ]
    out = run(env, "profile", "set", "allergies", "peanuts", "and", "shellfish").output
    assert out.endswith(": allergies = peanuts and shellfish\n")
    data = json.loads(run(env, "search", "sister", "Anna's", "wedding", "--json").output)
    assert data["query"] == "sister Anna's wedding"


def test_config_show_and_set(env: Env, home: Path) -> None:
    data = json.loads(run(env, "config", "show", "--json").output)
    assert data["short_term_capacity"] == 7
    assert data["home"] == str(home)
    out = run(env, "config", "set", "short_term_capacity", "5").output
    assert out == f"short_term_capacity = 5 (in {home / 'config.toml'})\n"
    assert (home / "config.toml").read_text() == "[memoryos]\nshort_term_capacity = 5\n"
    assert json.loads(run(env, "config", "show", "--json").output)["short_term_capacity"] == 5
    bad = run(env, "config", "set", "short_term_capacity", "many", ok=False)
    assert isinstance(bad.exception, InvalidInputError)
    assert isinstance(run(env, "config", "set", "nope", "1", ok=False).exception, InvalidInputError)


def test_config_show_tells_what_an_empty_setting_means(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty embedder or time zone is not nothing: people see what it stands for, the
    JSON keeps the empty string that is stored."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()  # the next test's `home` sets UTC again
    data = json.loads(run(env, "config", "show", "--json").output)
    assert data["embedder"] == "" and data["timezone"] == ""
    shown = run(env, "config", "show").output.splitlines()
    cells = [line.split("│") for line in shown if line.count("│") == 3]
    lines = {cell[1].strip(): cell[2].strip() for cell in cells}
    assert lines["timezone"] == "(the system's: JST)"
    assert lines["embedder"].startswith("(the memory's own; bge-small-en-v1.5")
    assert lines["pip_args"] == ""


def test_reindex_moves_the_store_to_a_new_embedder(
    env: Env, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(home)
    new = HashingEmbedder(dim=32, name="hashing-32")
    with pytest.raises(EmbedderMismatchError):
        Memoryos("alice", "assistant", home, llm_model="none", embedder=new)
    monkeypatch.setattr(reindexing, "make_embedder", lambda settings: new)
    out = run(env, "reindex").output
    assert out.endswith("\nreindexed 9 pages, 1 segment and 2 facts with hashing-32 (32-d)\n")
    assert rows(home, "SELECT value FROM meta WHERE key IN ('embedder', 'embedding_dim')"
                " ORDER BY key") == [("hashing-32",), ("32",)]  # fmt: skip
    assert rows(home, "SELECT COUNT(*) FROM pages_vec") == [(9,)]
    assert rows(home, "SELECT COUNT(*) FROM knowledge_vec") == [(2,)]
    assert {len(r[0]) for r in rows(home, "SELECT centroid FROM segments")} == {32 * 4}
    with Memoryos("alice", "assistant", home, llm_model="none", embedder=new) as mem:
        assert mem.search("hiking Alps").mid_term[0].ref == "p1"


def test_driver_reads_what_cli_wrote(env: Env, home: Path) -> None:
    """The stdlib sqlite3 can read the file (plain tables) even without extensions."""
    run(env, "add", "--user-input", "hello", "--response", "hi")
    conn = sqlite3.connect(str(home / "memoryos.db"))
    try:
        assert conn.execute("SELECT user_input FROM pages").fetchall() == [("hello",)]
    finally:
        conn.close()


def test_a_forgotten_id_is_never_given_again(env: Env, home: Path) -> None:
    """SQLite gives max(id) + 1: forgetting the newest row handed its number to the next,
    so an old `forget p11` (a script, a note) would erase the exchange that took it."""
    seed(home)
    newest = {kind: rows(home, f"SELECT max(id) FROM {table}")[0][0] for kind, table in
              [("p", "pages"), ("k", "knowledge"), ("u", "profile_items")]}  # fmt: skip
    for kind, number in newest.items():
        run(env, "forget", f"{kind}{number}", "--yes")
    added = run(env, "add", "--user-input", "a new exchange", "--response", "ok").output
    assert added.startswith(f"stored p{newest['p'] + 1} ")
    assert run(env, "remember", "A new fact").output == f"remembered k{newest['k'] + 1}\n"
    told = run(env, "profile", "set", "pet", "a cat").output
    assert told.startswith(f"u{newest['u'] + 1}: ")
    run(env, "forget", "--all", "--yes")
    again = run(env, "add", "--user-input", "after forgetting all", "--response", "ok").output
    assert again.startswith(f"stored p{newest['p'] + 2} ")


def test_terminal_escapes_in_remembered_text_are_shown_not_run(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text from an import or an MCP client can hold terminal escapes: printed raw, they
    retitle the window or clear the screen. Every view shows them as control pictures."""
    hostile = "Clear \x1b]0;PWNED\x07 title \x1b[2J done \x9b31m"
    with env.memoryos() as mem:
        mem.add_memory(hostile, "ok")
        mem.set_profile("job", "\x1b[31mnurse")
    for args in (["memory", "short"], ["search", "Clear"], ["profile", "show"]):
        out = run(env, *args).output
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out, (args, out)
    out = run(env, "memory", "short").output
    assert "␛]0;PWNED" in out and "␛[2J done" in out  # rich itself drops the bell


def test_reading_as_another_user_leaves_the_file_as_it_was(env: Env, home: Path) -> None:
    """A mistyped `--user` used to add an owner row on every read: one more user in the
    file for good, and every keyword search then filtered by owner."""
    seed(home)
    for args in (
        ("search", "hiking"),
        ("profile", "show"),
        ("stats",),
        ("memory", "short"),
        ("memory", "mid"),
        ("memory", "long"),
        ("export", "-o", "-"),
        ("forget", "--all", "--yes"),
    ):
        run(env, "--user", "ghost", *args)
    refused = run(env, "--user", "ghost", "add", "--user-input", " ", "--response", "", ok=False)
    assert isinstance(refused.exception, InvalidInputError)  # a refused write makes none
    assert rows(home, "SELECT user_id FROM owners") == [("alice",)]
    run(env, "--user", "ghost", "add", "--user-input", "I keep bees.", "--response", "Lovely!")
    assert rows(home, "SELECT user_id FROM owners ORDER BY id") == [("alice",), ("ghost",)]
    assert "bees" in run(env, "--user", "ghost", "search", "bees").output
    assert "bees" not in run(env, "--user", "alice", "search", "bees").output
