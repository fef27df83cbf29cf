"""export / import: lossless roundtrip, merge without duplicates, all-or-nothing validation."""

from __future__ import annotations

import dataclasses
import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cli_support import fast_env, rows, run, seed

from memoryos_cli.api import Memoryos
from memoryos_cli.cli.env import Env
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory import portable
from memoryos_cli.store import Store

VOLATILE = ("exported_at",)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Env:
    return fast_env(monkeypatch)


def export(env: Env, path: Path, *extra: str) -> dict[str, Any]:
    out = run(env, "export", "-o", str(path), *extra).output
    assert out.startswith("exported ")
    return json.loads(path.read_text())


def same(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in VOLATILE:
        a, b = {k: v for k, v in a.items() if k != key}, {k: v for k, v in b.items() if k != key}
    assert a == b


# Pages consolidation has read, and pages written with meta_data: both must travel.
READ_PAGES = {1: {"source": "phone", "tags": ["trip", "Alps"]}, 4: {"mood": "tired"}}


def mark_read(home: Path) -> None:
    """Mark two seeded pages analyzed and give them meta (the seed has neither)."""
    store = Store(home / "memoryos.db")
    try:
        with store.transaction() as conn:
            for page_id, meta in READ_PAGES.items():
                conn.execute(
                    "UPDATE pages SET analyzed = 1, meta_json = ? WHERE id = ?",
                    (json.dumps(meta), page_id),
                )
    finally:
        store.close()


def read_state(data: dict[str, Any]) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Each exported page's (analyzed, meta), by its text (ids may be remapped)."""
    return {p["user_input"]: (p["analyzed"], p["meta"]) for p in data["pages"]}


def file_state(home: Path) -> bytes:
    out = b""
    for suffix in ("", "-wal"):
        path = Path(str(home / "memoryos.db") + suffix)
        out += path.read_bytes() if path.exists() else b"-"
    return out


@pytest.mark.parametrize("with_vectors", [False, True])
def test_roundtrip_into_a_fresh_home(
    env: Env, home: Path, tmp_path: Path, with_vectors: bool
) -> None:
    seed(home)
    mark_read(home)
    extra = ("--embeddings",) if with_vectors else ()
    first = export(env, tmp_path / "me.json", *extra)
    assert {p["id"]: p["meta"] for p in first["pages"] if p["analyzed"]} == READ_PAGES
    assert stat.S_IMODE((tmp_path / "me.json").stat().st_mode) == 0o600
    assert first["format"] == "memoryos-export" and first["format_version"] == 1
    assert len(first["pages"]) == 9 and first["pages"][0]["tier"] == "mid"
    assert first["profile"][0]["superseded_by"] == 2
    assert ("embedding" in first["pages"][0]) is with_vectors
    fresh = Env(home=tmp_path / "other", user="alice", assistant="assistant")
    out = run(fresh, "import", str(tmp_path / "me.json")).output
    assert out == ("imported 9 exchanges (0 already here), 1 segment, 2 facts, "
                   "2 profile items into alice with assistant\n")  # fmt: skip
    second = export(fresh, tmp_path / "again.json", *extra)
    same(first, second)


def test_import_twice_adds_nothing(env: Env, home: Path, tmp_path: Path) -> None:
    seed(home)
    export(env, tmp_path / "me.json")
    before = {t: rows(home, f"SELECT COUNT(*) FROM {t}") for t in
              ("pages", "segments", "knowledge", "profile_items", "jobs", "pages_vec")}  # fmt: skip
    out = run(env, "import", str(tmp_path / "me.json")).output
    assert out.startswith("imported 0 exchanges (9 already here), 0 segments, 0 facts, 0 profile")
    after = {t: rows(home, f"SELECT COUNT(*) FROM {t}") for t in before}
    assert after == before


def test_a_dash_is_standard_output_and_standard_input(
    env: Env, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`export -o -` wrote a file named "-", and `import -` looked for one."""
    seed(home)
    monkeypatch.chdir(tmp_path)
    printed = run(env, "export", "-o", "-").output
    assert not (tmp_path / "-").exists()
    same(json.loads(printed), export(env, tmp_path / "me.json"))
    fresh = dataclasses.replace(env, home=tmp_path / "other", stdin=io.StringIO(printed))
    out = run(fresh, "import", "-").output
    assert out.startswith("imported 9 exchanges (0 already here)")
    for piped, says in [("", "it is empty"), ("# Journal", "a Markdown journal")]:
        bad = dataclasses.replace(env, home=tmp_path / "third", stdin=io.StringIO(piped))
        refused = run(bad, "import", "-", ok=False).exception
        assert says in str(refused) and "nothing was imported" in str(refused)
    refused = run(env, "export", "--format", "md", "--embeddings", ok=False).exception
    assert "a journal holds no vectors" in str(refused)  # it was ignored


def test_an_exchange_said_twice_comes_back_twice(env: Env, home: Path, tmp_path: Path) -> None:
    """The same words at the same second, twice, are two pages: an import into an empty
    memory kept one ("1 already here"); importing it again still adds nothing."""
    for _ in range(2):
        run(env, "add", "--user-input", "same", "--response", "same",
            "--timestamp", "2026-11-01T10:00")  # fmt: skip
    export(env, tmp_path / "me.json")
    fresh = Env(home=tmp_path / "other", user="alice", assistant="assistant")
    out = run(fresh, "import", str(tmp_path / "me.json")).output
    assert out.startswith("imported 2 exchanges (0 already here)"), out
    out = run(fresh, "import", str(tmp_path / "me.json")).output
    assert out.startswith("imported 0 exchanges (2 already here)"), out
    assert rows(tmp_path / "other", "SELECT COUNT(*) FROM pages") == [(2,)]


def test_merge_into_an_existing_store_remaps_ids(env: Env, home: Path, tmp_path: Path) -> None:
    seed(home)
    mark_read(home)
    data = export(env, tmp_path / "me.json")
    other = Env(home=tmp_path / "other", user="alice", assistant="assistant")
    run(
        other,
        "add",
        "--user-input",
        "I play chess",
        "--response",
        "Fun!",
        "--timestamp",
        "2024-04-01",
    )
    run(other, "remember", "Plays chess")
    run(other, "import", str(tmp_path / "me.json"))
    merged = export(other, tmp_path / "merged.json")
    assert len(merged["pages"]) == 10
    assert read_state(merged) == read_state(data) | {"I play chess": (False, {})}
    by_text = {p["user_input"]: p for p in merged["pages"]}
    teacher = by_text["Let me tell you about a job as a teacher."]
    assert teacher["id"] != 4  # ids were taken: remapped
    facts = {f["text"]: f for f in merged["knowledge"]}
    assert facts["Works as a teacher"]["source_page_ids"] == [teacher["id"]]
    assert facts["Works as a teacher"]["superseded_by"] == facts["Works as a nurse"]["id"]
    assert facts["Plays chess"]["superseded_by"] is None
    # the short-term capacity still holds after the merge: the chess page moved on
    assert sum(p["tier"] == "short" for p in merged["pages"]) == 7
    assert len(data["pages"]) == 9
    with Memoryos("alice", "assistant", tmp_path / "other", llm_model="none",
                  embedder=HashingEmbedder()) as mem:  # fmt: skip
        recall = mem.search("teacher job")
        assert f"p{teacher['id']}" in [i.ref for i in recall.items()]
        nurse = mem.search("works as a nurse").knowledge[0]
        assert nurse.text == "Works as a nurse" and nurse.similarity > 0.5  # vectors came


def test_different_embedder_reembeds(env: Env, home: Path, tmp_path: Path) -> None:
    seed(home)
    data = export(env, tmp_path / "me.json", "--embeddings")
    data["embedder"] = {"name": "other-model", "dim": 64}
    (tmp_path / "me.json").write_text(json.dumps(data))
    fresh = Env(home=tmp_path / "other", user="alice", assistant="assistant")
    run(fresh, "import", str(tmp_path / "me.json"))
    again = export(fresh, tmp_path / "again.json", "--embeddings")
    assert again["embedder"]["name"] == "hashing-test"
    assert [p["embedding"] for p in again["pages"]] == [
        p["embedding"] for p in export(env, tmp_path / "x.json", "--embeddings")["pages"]
    ]


def _broken(data: dict[str, Any]) -> list[tuple[str, Any]]:
    def edit(fn):  # type: ignore[no-untyped-def]
        copy = json.loads(json.dumps(data))
        fn(copy)
        return copy

    return [
        ("wrong version", edit(lambda d: d.update(format_version=99))),
        ("newer schema", edit(lambda d: d.update(schema_version=999))),
        ("not an export", edit(lambda d: d.pop("format"))),
        ("bad type", edit(lambda d: d["pages"][3].update(ts="yesterday"))),
        ("bool as number", edit(lambda d: d["pages"][3].update(ts=True))),
        ("year 1", edit(lambda d: d["pages"][3].update(ts=-62135596800.0))),
        ("duplicate id", edit(lambda d: d["pages"][2].update(id=d["pages"][1]["id"]))),
        ("dangling segment", edit(lambda d: d["pages"][0].update(segment_id=77))),
        ("dangling source", edit(lambda d: d["knowledge"][0].update(source_page_ids=[404]))),
        ("dangling superseded_by", edit(lambda d: d["profile"][0].update(superseded_by=9))),
        ("bad tier", edit(lambda d: d["pages"][5].update(tier="long"))),
        ("missing field", edit(lambda d: d["knowledge"][1].pop("text"))),
        ("bad vector", edit(lambda d: d["pages"][0].update(embedding="AAAA"))),
        ("not a list", edit(lambda d: d.update(jobs={}))),
        # what `add` refuses: over max_input_chars, empty on both sides, half a surrogate
        ("too long", edit(lambda d: d["pages"][3].update(user_input="x" * 200_001))),
        ("empty", edit(lambda d: d["pages"][4].update(user_input=" ", agent_response=""))),
        ("not UTF-8", edit(lambda d: d["pages"][2].update(agent_response="ok \ud800"))),
        # ids: 2^63 - 1 left none for the next exchange ("datatype mismatch" on every add),
        # 2^70 was an OverflowError, -5 a page `forget p-5` could not name
        ("last id", edit(lambda d: d["pages"][0].update(id=2**63 - 1))),
        ("too big an id", edit(lambda d: d["pages"][0].update(id=2**70))),
        ("negative id", edit(lambda d: d["pages"][0].update(id=-5))),
        ("empty fact", edit(lambda d: d["knowledge"][0].update(text=" "))),
        ("empty value", edit(lambda d: d["profile"][0].update(value=""))),
        ("no evidence", edit(lambda d: d["knowledge"][0].update(evidence_count=-3))),
    ]


def test_malformed_files_change_nothing(env: Env, home: Path, tmp_path: Path) -> None:
    seed(home)
    good = export(env, tmp_path / "me.json", "--embeddings")
    text = (tmp_path / "me.json").read_text()
    target = tmp_path / "target"
    target_env = Env(home=target, user="alice", assistant="assistant")
    run(target_env, "add", "--user-input", "existing", "--response", "row")
    before = file_state(target)
    cases = [("truncated", text[: len(text) // 2]), ("empty", ""), ("not json", "hello")]
    cases += [(name, json.dumps(d)) for name, d in _broken(good)]
    for name, content in cases:
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        result = run(target_env, "import", str(bad), ok=False)
        assert isinstance(result.exception, InvalidInputError), name
        assert "nothing was imported" in str(result.exception), name
        assert file_state(target) == before, name
    # a binary file, a folder and the Markdown journal: each said "cannot read ...: 'utf-8'
    # codec can't decode", "[Errno 21] Is a directory" or "broken or truncated JSON"
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)))
    (tmp_path / "folder").mkdir()
    journal = tmp_path / "me.md"
    run(env, "export", "--format", "md", "-o", str(journal))
    for path, says in [(tmp_path / "photo.jpg", "not UTF-8 text"),
                       (tmp_path / "folder", "is a folder, not an export file"),
                       (journal, "a Markdown journal")]:  # fmt: skip
        result = run(target_env, "import", str(path), ok=False)
        message = str(result.exception)
        assert says in message and "nothing was imported" in message, message
        assert file_state(target) == before, path
    assert rows(target, "SELECT COUNT(*) FROM pages") == [(1,)]


def test_error_message_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('{"format": "memoryos-export", "format_version": 1, "pages": [')
    with pytest.raises(InvalidInputError) as err:
        portable.read_file(path)
    assert str(err.value) == (
        "not a valid memoryos export: broken or truncated JSON (Expecting value at line 1, "
        "column 62); nothing was imported"
    )
    with pytest.raises(InvalidInputError, match="newer than this memoryos reads"):
        portable.parse(json.dumps({"format": "memoryos-export", "format_version": 2}))
    with pytest.raises(InvalidInputError, match="no such file"):
        portable.read_file(tmp_path / "missing.json")


def test_a_number_json_has_not_is_refused(env: Env, home: Path, tmp_path: Path) -> None:
    """Python writes NaN and Infinity, JSON has no such numbers: an export holding one is
    not read as if it were valid."""
    seed(home)
    good = export(env, tmp_path / "me.json")
    good["segments"][0]["heat"] = float("nan")
    with pytest.raises(InvalidInputError, match="NaN is not a number JSON allows"):
        portable.parse(json.dumps(good))
    good["segments"][0]["heat"] = float("-inf")
    with pytest.raises(InvalidInputError, match="-Infinity is not a number JSON allows"):
        portable.parse(json.dumps(good))


def test_export_to_a_path_it_cannot_write_is_one_clear_error(
    env: Env, home: Path, tmp_path: Path
) -> None:
    seed(home)
    folder = tmp_path / "exports"
    folder.mkdir()
    for output, says in [
        (folder, f"{folder} is a folder; give a file, e.g. {folder / 'memoryos.json'}"),
        (folder / "nowhere" / "me.json", f"there is no folder {folder / 'nowhere'}"),
    ]:
        result = run(env, "export", "-o", str(output), ok=False)
        assert isinstance(result.exception, InvalidInputError) and says in str(result.exception)
    # nothing written, not even a temporary file (for a folder it went into its parent)
    assert list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_markdown_journal(env: Env, home: Path, tmp_path: Path) -> None:
    seed(home)
    run(env, "export", "--format", "md", "-o", str(tmp_path / "me.md"))
    text = (tmp_path / "me.md").read_text()
    assert stat.S_IMODE((tmp_path / "me.md").stat().st_mode) == 0o600
    assert text.startswith("# memoryos journal: alice with assistant\n")
    assert "- **occupation**: nurse (u2, evidence 1)" in text
    assert "- Works as a nurse (k2, 2024-05-01)" in text
    assert (
        "\n## 2024-05-01\n\n### 14:30 · p1\n\n**User:**\n\n> Let me tell you about hiking" in text
    )
    assert "teacher" in text  # the transcript keeps what the profile superseded


def test_the_journal_shows_control_characters_never_runs_them(env: Env, tmp_path: Path) -> None:
    """`cat me.md` ran a remembered "\x1b[2J" (clear the screen) that every view shows as ␛."""
    run(env, "add", "--user-input", "tab\there\x01 \x1b[2Jgone", "--response", "ok\x9b")
    run(env, "export", "--format", "md", "-o", str(tmp_path / "me.md"))
    text = (tmp_path / "me.md").read_text()
    assert "> tab\there␁ ␛[2Jgone" in text and "> ok\ufffd" in text
    assert not set(text) & {"\x01", "\x1b", "\x9b"}


def test_export_to_stdout(env: Env, home: Path) -> None:
    seed(home)
    data = json.loads(run(env, "export").output)
    assert len(data["pages"]) == 9
    assert data["settings"]["short_term_capacity"] == 7 and "home" not in data["settings"]
    assert data["segments"][0]["heat"] == pytest.approx(
        data["segments"][0]["n_visit"] + data["segments"][0]["l_interaction"]
        + data["segments"][0]["recency"]
    )  # fmt: skip
    bad = run(env, "export", "--format", "xml", ok=False)
    assert isinstance(bad.exception, InvalidInputError)


def test_export_schema_describes_every_export(env: Env, home: Path) -> None:
    import jsonschema

    seed(home)
    schema = json.loads(run(env, "export", "--schema").output)
    assert schema["title"] == "memoryos export"
    assert {"format", "embedder", "pages", "segments", "profile", "knowledge", "jobs"} <= set(
        schema["required"]
    )
    check = jsonschema.Draft202012Validator(schema)
    for extra in ((), ("--embeddings",)):
        data = json.loads(run(env, "export", *extra).output)
        assert list(check.iter_errors(data)) == [], extra
    data["pages"][5]["tier"] = "long"
    assert not check.is_valid(data)
    written = run(env, "export", "--schema", "-o", str(home / "schema.json")).output
    assert written == f"wrote the export file's JSON schema to {home / 'schema.json'}\n"
    assert json.loads((home / "schema.json").read_text()) == schema


def test_malformed_file_messages_say_where_in_one_line(
    env: Env, home: Path, tmp_path: Path
) -> None:
    seed(home)
    good = export(env, tmp_path / "me.json", "--embeddings")
    problems = [
        ("bad type", "pages[3].ts has the wrong type ('yesterday')"),
        ("bool as number", "pages[3].ts has the wrong type (True)"),
        ("year 1", "pages[3].ts is -62135596800.0, outside the years 1900 to 8999"),
        ("duplicate id", "pages[2] repeats id 2"),
        ("dangling segment", "pages[0].segment_id refers to a missing segment s77"),
        ("dangling source", "knowledge[0].source_page_ids refers to missing page p404"),
        ("dangling superseded_by", "profile[0].superseded_by refers to a missing item u9"),
        ("bad tier", "pages[5].tier is 'long', not one of 'short', 'mid' or 'archive'"),
        ("missing field", "knowledge[1] has no 'text'"),
        ("bad vector", "pages[0].embedding is not a 64-d float32 vector"),
        ("not a list", "jobs is not a list"),
    ]
    broken = dict(_broken(good))
    for name, where in problems:
        with pytest.raises(InvalidInputError) as err:
            portable.parse(json.dumps(broken[name]))
        message = f"not a valid memoryos export: {where}; nothing was imported"
        assert str(err.value) == message, name
    good["pages"][0]["tier"] = "short"  # while it still names its segment
    with pytest.raises(InvalidInputError, match=r"pages\[0\] has a segment_id that does not match"):
        portable.parse(json.dumps(good))
    good["pages"][0]["embedding"] = "AAAA!"  # "!" is not in the base64 alphabet
    with pytest.raises(InvalidInputError, match=r"pages\[0\]\.embedding is not valid base64;"):
        portable.parse(json.dumps(good))


def test_the_facade_exports_checks_and_merges(home: Path, tmp_path: Path) -> None:
    seed(home)
    mark_read(home)
    with Memoryos("alice", "assistant", home, llm_model="none",
                  embedder=HashingEmbedder()) as mem:  # fmt: skip
        exported = mem.export(embeddings=True)
    path, bad = tmp_path / "me.json", tmp_path / "bad.json"
    path.write_text(exported.to_json())
    bad.write_text(exported.to_json().replace('"tier": "short"', '"tier": "long"', 1))
    with pytest.raises(InvalidInputError, match=r"^not a valid memoryos export: pages\[2\]\.tier"):
        Memoryos.read_export(bad)  # no memory is opened to refuse a file
    with Memoryos("alice", "assistant", tmp_path / "other", llm_model="none",
                  embedder=HashingEmbedder()) as other:  # fmt: skip
        counts = other.import_(path)
        assert (counts.pages, counts.duplicate_pages, counts.segments) == (9, 0, 1)
        assert (counts.facts, counts.profile_items) == (2, 2)
        again = other.import_(Memoryos.read_export(path))
        assert (again.pages, again.duplicate_pages) == (0, 9)
        assert other.export(embeddings=True).to_data() | {"exported_at": 0} == (
            exported.to_data() | {"exported_at": 0}
        )
