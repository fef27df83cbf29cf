"""One SQLite file: connection, pragmas, sqlite-vec, migrations, transactions."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from memoryos_cli.config import ensure_private_dir
from memoryos_cli.errors import EmbedderMismatchError, SchemaTooNewError, StoreError
from memoryos_cli.files import make_private
from memoryos_cli.store import vectors
from memoryos_cli.store.driver import CANDIDATES, Driver, choose_driver, load_sqlite_vec
from memoryos_cli.store.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000
MMAP_BYTES = 1 << 30
VECTOR_TABLES = ("pages_vec", "pages_bin", "segments_vec", "knowledge_vec")
SQLITE_MAGIC = b"SQLite format 3\x00"


def _make_private_file(path: Path) -> None:
    """Create the DB file 0600, or check an existing one is SQLite and make it 0600."""
    try:
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            return
        size = path.stat().st_size
        if size:
            with open(path, "rb") as fh:
                if fh.read(16) != SQLITE_MAGIC:
                    raise StoreError(
                        f"{path} is not a memoryos database (not SQLite); move it away"
                    )
        make_private(path)
    except OSError as exc:
        raise StoreError(f"cannot use {path} ({exc.strerror}); check its permissions") from exc


def _describe(exc: Exception) -> str:
    """What to do about a write that SQLite refused."""
    text = str(exc).lower()
    if "full" in text:
        return "the disk is full; free some space and try again"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return "the memory file or its folder is read-only; check their permissions"
    if "locked" in text or "busy" in text:
        return "another memoryos process kept the file busy; try again"
    return "run `memoryos doctor`"


def as_store_error(exc: Exception) -> StoreError | None:
    """A driver's database error that no transaction caught (a query that read a damaged
    page: "vectors blob read error for 1") as one StoreError; None for any other error."""
    caught = any(
        cls.__name__ == "DatabaseError" and cls.__module__.split(".")[0] in CANDIDATES
        for cls in type(exc).__mro__
    )
    if not caught:
        return None
    return StoreError(f"could not use the memory file ({exc}); {_describe(exc)}")


class Store:
    """A connection to the memory file. Thread-safe: one lock serializes use of the connection."""

    def __init__(self, path: Path | str, *, driver: Driver | None = None, migrate: bool = True):
        self.path = Path(path)
        try:
            ensure_private_dir(self.path.parent)
        except OSError as exc:
            folder = self.path.parent
            # mkdir says "File exists" of a file where the folder should be
            why = "it is a file, not a folder" if folder.is_file() else exc.strerror
            raise StoreError(
                f"cannot use the data folder {folder} ({why}); "
                "check its permissions or set MEMORYOS_HOME"
            ) from exc
        _make_private_file(self.path)
        self.driver = driver or choose_driver()
        self.lock = threading.RLock()
        self._bound: str | None = None  # the embedder this process bound the file to
        try:
            self.conn: Any = self.driver.module.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30
            )
        except Exception as exc:  # noqa: BLE001 - driver-specific errors
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        try:
            self._check_file()
            self.vec_version = load_sqlite_vec(self.conn)
            self._configure()
            if migrate:
                self.migrate()
        except BaseException as exc:
            self.close()
            if isinstance(exc, self.driver.module.Error):
                raise StoreError(f"cannot open {self.path} ({exc}); {_describe(exc)}") from exc
            raise
        for suffix in ("-wal", "-shm"):
            side = Path(str(self.path) + suffix)
            if side.exists():
                os.chmod(side, 0o600)

    def _check_file(self) -> None:
        """Read-only checks first: a file we must refuse is left byte-identical."""
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        except self.driver.module.DatabaseError as exc:
            reason = _describe(exc)
            if "doctor" not in reason:
                raise StoreError(f"cannot open {self.path}: {reason} ({exc})") from exc
            raise StoreError(f"{self.path} is not a usable SQLite database ({exc})") from exc
        self._refuse_if_newer(version)

    def _refuse_if_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise SchemaTooNewError(
                f"{self.path} has schema version {version}, newer than this memoryos "
                f"supports ({len(MIGRATIONS)}); upgrade memoryos"
            )

    def _switch_to_wal(self) -> str:
        """Set WAL mode, retrying while another process holds the lock.

        Switching a new file's journal mode needs an exclusive lock, and SQLite answers
        "database is locked" at once, without the busy handler, when processes opening
        the same new file meet (seen with 4 writers starting together). So wait here,
        up to the busy timeout, as a write would.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                return str(self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except self.driver.module.OperationalError as exc:
                busy = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _configure(self) -> None:
        try:
            mode = self._switch_to_wal()
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA secure_delete = ON")
            self.conn.execute("PRAGMA synchronous = FULL")
            # Reads through a memory map: a vec0 point lookup walks its chunk's overflow
            # pages, 10x slower through read() (200 page vectors: 25 ms -> 2.6 ms).
            self.conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        except self.driver.module.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a usable SQLite database ({exc}); {_describe(exc)}"
            ) from exc
        if str(mode).lower() != "wal":
            raise StoreError(f"could not switch {self.path} to WAL mode (got {mode})")

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A write transaction (BEGIN IMMEDIATE): all of it commits, or none of it.

        A write SQLite refuses (disk full, read-only file, busy past the timeout) becomes
        one StoreError after the rollback; the connection stays usable.
        """
        errors = self.driver.module
        with self.lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    self._check_still_bound()
                    yield self.conn
                    self.conn.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            except errors.OperationalError as exc:
                raise StoreError(f"could not write {self.path} ({exc}); {_describe(exc)}") from exc

    def _check_still_bound(self) -> None:
        """Inside a write transaction: the file is still bound to the embedder this
        process bound it to. A `memoryos reindex` run by another process meanwhile moved
        it to other vectors (maybe of the same size): writing ours would mix the two."""
        if self._bound is None:
            return
        rows = self.conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchall()
        now = str(rows[0][0]) if rows else None
        if now != self._bound:
            raise EmbedderMismatchError(
                f"this memory was reindexed with embedder {now} while it was open with "
                f"{self._bound}; nothing was written: start memoryos again"
            )

    def _rollback(self) -> None:
        # SQLite may already have rolled back (e.g. SQLITE_FULL); a second ROLLBACK would
        # raise and hide the error that matters.
        if self.conn.in_transaction:
            with suppress(Exception):  # the original error is the one to report
                self.conn.execute("ROLLBACK")

    def query(self, sql: str, params: Any = ()) -> list[Any]:
        with self.lock:
            return list(self.conn.execute(sql, params).fetchall())

    def one(self, sql: str, params: Any = ()) -> Any:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    # -- schema -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.one("PRAGMA user_version")[0])

    def migrate(self) -> int:
        """Apply pending migrations in order; refuse a file made by a newer memoryos.

        The version is re-read under the write lock, so processes opening a new file at
        the same moment apply each migration exactly once.
        """
        current = self.schema_version
        self._refuse_if_newer(current)
        for number, (name, migration) in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            with self.transaction() as conn:
                current = int(conn.execute("PRAGMA user_version").fetchone()[0])
                self._refuse_if_newer(current)
                if number <= current:
                    continue
                if number == 1:
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_migrations("
                        "name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
                    )
                migration(conn)
                conn.execute(
                    "INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)",
                    (name, time.time()),
                )
                conn.execute(f"PRAGMA user_version = {number}")
        return self.schema_version

    # -- embedder binding ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def bind_embedder(self, name: str, dim: int) -> None:
        """Record which embedder made the vectors; create the vec0 tables on first use."""
        if not self._embedder_matches(name, dim):
            with self.transaction() as conn:
                if not self._embedder_matches(name, dim):  # another process may have bound it
                    self.create_vector_tables(conn, dim)
                    self.record_embedder(conn, name, dim)
        self._bound = name

    def record_embedder(self, conn: Any, name: str, dim: int) -> None:
        """Inside a write transaction: the file's vectors are now `name`'s (`dim`-d), and
        this process writes with it from now on (reindex moves a bound store too)."""
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (name,))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('embedding_dim', ?)", (str(dim),))
        if self._bound is not None:
            self._bound = name

    def _embedder_matches(self, name: str, dim: int) -> bool:
        """True when bound to this embedder, False when unbound; a different one is an error."""
        stored_name, stored_dim = self.get_meta("embedder"), self.get_meta("embedding_dim")
        if stored_name is None:
            return False
        if stored_name != name or int(stored_dim or 0) != dim:
            raise EmbedderMismatchError(
                f"this memory was indexed with embedder {stored_name} ({stored_dim}-d), "
                f"not {name} ({dim}-d); run `memoryos reindex` to re-embed it"
            )
        return True

    @staticmethod
    def create_vector_tables(conn: Any, dim: int) -> None:
        for table in ("pages_vec", "segments_vec", "knowledge_vec"):
            conn.execute(vectors.float_table_sql(table, dim))
        for table in vectors.BINARY.values():
            conn.execute(vectors.binary_table_sql(table, dim))

    def drop_vector_tables(self, conn: Any) -> None:
        for table in VECTOR_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute("DELETE FROM meta WHERE key IN ('embedder', 'embedding_dim')")

    # -- owners -------------------------------------------------------------------------

    def find_owner(self, user_id: str, assistant_id: str) -> int | None:
        """The pair's owner id; None when it has never stored anything."""
        row = self.one(
            "SELECT id FROM owners WHERE user_id = ? AND assistant_id = ?", (user_id, assistant_id)
        )
        return None if row is None else int(row[0])

    def owner_id(self, user_id: str, assistant_id: str) -> int:
        """The pair's owner id, its row made now if it has none."""
        found = self.find_owner(user_id, assistant_id)
        if found is not None:
            return found
        with self.transaction() as conn:
            return self.owner_in(conn, user_id, assistant_id)

    @staticmethod
    def owner_in(conn: Any, user_id: str, assistant_id: str) -> int:
        """The pair's owner id, its row made in `conn`'s transaction if it has none."""
        conn.execute(
            "INSERT OR IGNORE INTO owners(user_id, assistant_id, created_at) VALUES (?, ?, ?)",
            (user_id, assistant_id, time.time()),
        )
        row = conn.execute(
            "SELECT id FROM owners WHERE user_id = ? AND assistant_id = ?",
            (user_id, assistant_id),
        ).fetchone()
        return int(row[0])

    # -- maintenance --------------------------------------------------------------------

    def checkpoint(self) -> bool:
        """Move the WAL into the main file and truncate it (erasure needs both).

        False when another connection kept part of the WAL alive (it is retried on the
        next checkpoint and on the last close)."""
        with self.lock:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return not busy

    def time_commits(self, synchronous: str, n: int) -> list[float]:
        """Seconds each of `n` one-row write transactions takes under `PRAGMA synchronous`
        (FULL again afterwards, as `_configure` sets it): what a commit costs."""
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"no synchronous mode {synchronous!r}")
        took = []
        with self.lock:
            self.conn.execute(f"PRAGMA synchronous = {synchronous}")
            try:
                for i in range(n):
                    start = time.perf_counter()
                    with self.transaction() as conn:
                        conn.execute(
                            "INSERT OR REPLACE INTO meta VALUES ('bench_probe', ?)", (str(i),)
                        )
                    took.append(time.perf_counter() - start)
            finally:
                self.conn.execute("PRAGMA synchronous = FULL")
                with self.transaction() as conn:
                    conn.execute("DELETE FROM meta WHERE key = 'bench_probe'")
        return took

    def integrity_check(self) -> str:
        return str(self.one("PRAGMA integrity_check")[0])

    def close(self) -> None:
        with self.lock, suppress(Exception):  # closing twice is harmless
            self.conn.close()
