"""The store: driver choice, pragmas, file modes, migrations, refusing files it must not touch."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import sys
import threading
import types
from pathlib import Path

import pytest
import sqlean

from memoryos_cli.errors import EmbedderMismatchError, SchemaTooNewError, StoreError
from memoryos_cli.store import BUSY_TIMEOUT_MS, Store
from memoryos_cli.store.driver import CANDIDATES, Driver, choose_driver
from memoryos_cli.store.migrations import MIGRATIONS

STDLIB_CAN_LOAD = hasattr(sqlite3.Connection, "enable_load_extension")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(home: Path):  # type: ignore[no-untyped-def]
    s = Store(home / "memoryos.db")
    yield s
    s.close()


def fake_driver_module(name: str, *, can_load: bool) -> types.ModuleType:
    """A DB-API module named `name`: sqlean underneath, with or without extension loading."""
    module = types.ModuleType(name)
    module.__dict__.update({k: v for k, v in vars(sqlean).items() if not k.startswith("__")})
    if not can_load:
        module.Connection = type("Connection", (), {})  # no enable_load_extension
    return module


# -- driver -------------------------------------------------------------------------------


def test_sqlean_is_chosen_when_installed() -> None:
    driver = choose_driver()
    assert driver.name == "sqlean"
    assert CANDIDATES[0] == "sqlean"


def test_no_driver_that_loads_extensions_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlean", None)  # import sqlean -> ImportError
    monkeypatch.setitem(
        sys.modules, "stdlib_noext", fake_driver_module("stdlib_noext", can_load=False)
    )
    with pytest.raises(StoreError) as info:
        choose_driver(("sqlean", "stdlib_noext"))
    message = str(info.value)
    assert "pip install sqlean-py" in message
    assert "sqlean (not installed)" in message
    assert "stdlib_noext (cannot load extensions)" in message


def test_without_sqlean_a_stdlib_that_can_load_extensions_serves(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever Python runs the tests: a `sqlite3` with enable_load_extension stands in for
    the stdlib while sqlean is not installed (its twin below lacks it)."""
    monkeypatch.setitem(sys.modules, "sqlean", None)
    monkeypatch.setitem(sys.modules, "sqlite3", fake_driver_module("sqlite3", can_load=True))
    s = Store(home / "memoryos.db")
    try:
        assert s.driver.name == "sqlite3" and s.vec_version.startswith("v")
        assert s.integrity_check() == "ok"
    finally:
        s.close()


def test_without_sqlean_a_stdlib_that_cannot_load_extensions_is_one_clear_error(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyenv and python.org macOS builds: a `sqlite3` without enable_load_extension."""
    monkeypatch.setitem(sys.modules, "sqlean", None)
    monkeypatch.setitem(sys.modules, "sqlite3", fake_driver_module("sqlite3", can_load=False))
    with pytest.raises(StoreError) as info:
        Store(home / "memoryos.db")
    assert str(info.value) == (
        "no SQLite driver here can load sqlite-vec: tried sqlean (not installed), "
        "sqlite3 (cannot load extensions); run `pip install sqlean-py`"
    )


def test_the_real_stdlib_serves_or_says_why(home: Path) -> None:
    """This Python's own sqlite3, given as the driver: it holds the memory if it can load
    extensions, and is one StoreError if it cannot (the two tests above cover both)."""
    try:
        s = Store(home / "memoryos.db", driver=Driver("sqlite3", sqlite3))
    except StoreError as exc:
        assert not STDLIB_CAN_LOAD, exc
        assert str(exc).startswith("could not load sqlite-vec (")
        return
    try:
        assert STDLIB_CAN_LOAD and s.integrity_check() == "ok"
    finally:
        s.close()


def test_fallback_driver_is_chosen_and_works(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlean", None)
    monkeypatch.setitem(sys.modules, "stdlib_ext", fake_driver_module("stdlib_ext", can_load=True))
    driver = choose_driver(("sqlean", "stdlib_ext"))
    assert driver.name == "stdlib_ext"
    s = Store(home / "memoryos.db", driver=driver)
    try:
        assert s.vec_version.startswith("v")
        assert s.integrity_check() == "ok"
    finally:
        s.close()


# -- pragmas, migrations, file modes --------------------------------------------------------


def test_pragmas(store: Store) -> None:
    assert store.one("PRAGMA journal_mode")[0] == "wal"
    assert store.one("PRAGMA foreign_keys")[0] == 1
    assert store.one("PRAGMA secure_delete")[0] == 1
    assert store.one("PRAGMA busy_timeout")[0] == BUSY_TIMEOUT_MS


def test_switching_to_wal_waits_for_a_writer_holding_the_new_file(home: Path) -> None:
    """SQLite refuses the journal-mode switch at once (no busy handler) while another
    connection holds a write lock on a new file: the open must wait, not fail."""
    home.mkdir(mode=0o700, exist_ok=True)
    path = home / "memoryos.db"
    path.touch(mode=0o600)
    holder = sqlean.connect(str(path), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        s = Store(path)
        try:
            assert s.one("PRAGMA journal_mode")[0] == "wal"
            assert s.schema_version == len(MIGRATIONS)
        finally:
            s.close()
    finally:
        release.join()
        holder.close()


def test_migrations_are_recorded(store: Store) -> None:
    names = [r[0] for r in store.query("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert store.schema_version == len(MIGRATIONS)
    assert store.migrate() == len(MIGRATIONS)  # idempotent
    assert store.one("SELECT COUNT(*) FROM schema_migrations")[0] == len(MIGRATIONS)


def test_files_are_private(home: Path) -> None:
    s = Store(home / "memoryos.db")
    try:
        s.bind_embedder("hashing-test", 8)
        s.owner_id("alice", "assistant")  # a write, so the WAL exists
        assert mode(home) == 0o700
        assert mode(home / "memoryos.db") == 0o600
        for side in ("memoryos.db-wal", "memoryos.db-shm"):
            assert (home / side).exists()
            assert mode(home / side) == 0o600
    finally:
        s.close()


def test_existing_loose_dir_and_file_are_made_private(home: Path) -> None:
    """Decision: the data dir belongs to memoryos, so a pre-existing 0755 dir becomes 0700
    and a 0644 memory file (e.g. restored from a backup) becomes 0600."""
    Store(home / "memoryos.db").close()
    os.chmod(home, 0o755)
    os.chmod(home / "memoryos.db", 0o644)
    Store(home / "memoryos.db").close()
    assert mode(home) == 0o700
    assert mode(home / "memoryos.db") == 0o600


def test_schema_too_new_is_refused_and_file_untouched(home: Path) -> None:
    home.mkdir(parents=True)
    path = home / "memoryos.db"
    conn = sqlean.connect(str(path))
    conn.execute("CREATE TABLE future(x)")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(SchemaTooNewError, match="upgrade memoryos"):
        Store(path)
    assert digest(path) == before
    assert sorted(p.name for p in home.iterdir()) == ["memoryos.db"]


@pytest.mark.parametrize("content", [b"hello", b"PK\x03\x04" + b"\x00" * 4000, b"x" * 100])
def test_not_sqlite_file_is_refused_and_untouched(home: Path, content: bytes) -> None:
    home.mkdir(parents=True)
    path = home / "memoryos.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a memoryos database") as info:
        Store(path)
    assert type(info.value) is StoreError
    assert path.read_bytes() == content
    assert sorted(p.name for p in home.iterdir()) == ["memoryos.db"]


def test_corrupt_sqlite_file_gives_one_store_error(home: Path) -> None:
    Store(home / "memoryos.db").close()
    path = home / "memoryos.db"
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # header kept, every page garbage
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        Store(path)


def test_embedder_mismatch_asks_for_reindex(store: Store) -> None:
    store.bind_embedder("hashing-test", 64)
    store.bind_embedder("hashing-test", 64)  # same one: fine
    with pytest.raises(EmbedderMismatchError, match="memoryos reindex"):
        store.bind_embedder("all-MiniLM-L6-v2", 384)
    with pytest.raises(EmbedderMismatchError, match="memoryos reindex"):
        store.bind_embedder("hashing-test", 32)


# -- transactions -----------------------------------------------------------------------------


def test_transaction_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO meta VALUES ('k', 'v')")
        raise RuntimeError("boom")
    assert store.get_meta("k") is None
    with store.transaction() as conn:  # the connection is usable afterwards
        conn.execute("INSERT INTO meta VALUES ('k', 'v')")
    assert store.get_meta("k") == "v"


def test_disk_full_is_one_store_error_and_rolls_back(store: Store) -> None:
    pages = store.one("PRAGMA page_count")[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(StoreError, match="disk is full"), store.transaction() as conn:
        conn.execute("INSERT INTO meta VALUES ('small', 'x')")
        conn.execute("INSERT INTO meta VALUES ('big', ?)", ("y" * 200_000,))
    assert store.get_meta("small") is None
    assert not store.conn.in_transaction
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    with store.transaction() as conn:
        conn.execute("INSERT INTO meta VALUES ('small', 'x')")
    assert store.get_meta("small") == "x"


def test_checkpoint_empties_the_wal(store: Store, home: Path) -> None:
    store.owner_id("alice", "assistant")
    assert store.checkpoint() is True
    assert (home / "memoryos.db-wal").stat().st_size == 0


def test_two_stores_on_a_new_file_migrate_once(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that read the version before another one migrated does not re-run m001."""
    first = Store(home / "memoryos.db", migrate=False)
    second = Store(home / "memoryos.db", migrate=False)
    try:
        first.migrate()
        with monkeypatch.context() as patched:
            patched.setattr(Store, "schema_version", property(lambda self: 0))  # a stale read
            second.migrate()
        assert second.one("SELECT COUNT(*) FROM schema_migrations")[0] == len(MIGRATIONS)
    finally:
        first.close()
        second.close()


def test_a_migration_is_registered_once_by_its_name_and_in_order() -> None:
    from memoryos_cli.store import migrations

    assert [n for n, _ in MIGRATIONS] == [f.__name__ for _, f in MIGRATIONS]
    assert [n[:5] for n, _ in MIGRATIONS] == [f"m{i:03d}_" for i in range(1, len(MIGRATIONS) + 1)]
    saved = list(migrations.MIGRATIONS)
    try:

        def m099_out_of_order(conn: object) -> None: ...

        with pytest.raises(RuntimeError, match="out of order"):
            migrations.migration(m099_out_of_order)
        assert saved == migrations.MIGRATIONS  # nothing registered
    finally:
        migrations.MIGRATIONS[:] = saved


def test_a_file_where_the_data_folder_should_be_is_named_as_such(tmp_path: Path) -> None:
    """mkdir's own word for it, "File exists", sent people looking for a folder."""
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    with pytest.raises(StoreError, match=r"notes.txt \(it is a file, not a folder\)"):
        Store(taken / "memoryos.db")
    assert taken.read_text() == "mine"
