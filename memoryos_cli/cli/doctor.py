"""`memoryos doctor`: check everything memoryos needs on this machine, one row per check."""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.table import Table

from memoryos_cli.cli.env import get_env
from memoryos_cli.config import Settings
from memoryos_cli.errors import ExitCode, MemoryosError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _driver() -> str:
    from memoryos_cli.store.driver import choose_driver

    driver = choose_driver()
    return f"{driver.name} (SQLite {driver.sqlite_version})"


def _memory_connection() -> object:
    from memoryos_cli.store.driver import choose_driver

    return choose_driver().module.connect(":memory:")


def _sqlite_vec() -> str:
    from memoryos_cli.store.driver import load_sqlite_vec

    return f"sqlite-vec {load_sqlite_vec(_memory_connection())}"


def _fts5() -> str:
    conn = _memory_connection()
    conn.execute("create virtual table probe using fts5(body)")  # type: ignore[attr-defined]
    return "available"


def _model(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        from memoryos_cli import catalog

        if settings.model.lower() == "none":
            return "none configured (LLM-free mode)"
        path = catalog.verify(settings.model, settings)
        return f"{settings.model}: {path} (sha256 ok)"

    return check


def _llama_cpp() -> str:
    from memoryos_cli.llm.llama import _import_llama

    _import_llama()
    from importlib.metadata import version

    return f"llama-cpp-python {version('llama_cpp_python')}"


def _embedder(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        from memoryos_cli.embed.sentence import resolve_embedder_path

        path = resolve_embedder_path(settings.embedder)
        if importlib.util.find_spec("sentence_transformers") is None:
            raise MemoryosError(
                "sentence-transformers is missing; run `pip install sentence-transformers`"
            )
        return f"{settings.embedder}: {path}"

    return check


def _database(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        if not settings.db_path.exists():
            return f"{settings.db_path} not created yet"
        from memoryos_cli.store import Store

        store = Store(settings.db_path, migrate=False)
        try:
            result = store.integrity_check()
        finally:
            store.close()
        if result != "ok":
            raise MemoryosError(f"integrity_check: {result}; restore a backup (`memoryos import`)")
        return f"{settings.db_path}: integrity ok"

    return check


def _permissions(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        problems = []
        for path, want in ((settings.home, 0o700), (settings.db_path, 0o600)):
            if path.exists():
                mode = stat.S_IMODE(os.stat(path).st_mode)
                if mode & ~want:
                    problems.append(f"{path} is {mode:o} (run `chmod {want:o} {path}`)")
        if problems:
            raise MemoryosError("; ".join(problems))
        return "data dir 700, database 600"

    return check


def run_checks(settings: Settings) -> list[Check]:
    """Every check, each caught on its own so one failure does not hide the others."""
    probes: list[tuple[str, Callable[[], str]]] = [
        ("sqlite driver", _driver),
        ("sqlite-vec", _sqlite_vec),
        ("fts5", _fts5),
        ("llama.cpp", _llama_cpp),
        ("model", _model(settings)),
        ("embedder", _embedder(settings)),
        ("database", _database(settings)),
        ("permissions", _permissions(settings)),
    ]
    out = []
    for name, probe in probes:
        try:
            out.append(Check(name, True, probe()))
        except Exception as exc:  # noqa: BLE001 - a doctor reports, it does not crash
            out.append(Check(name, False, str(exc) or type(exc).__name__))
    return out


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Check the SQLite driver, sqlite-vec, FTS5, model file, embedder, database and permissions."""
    env = get_env(ctx)
    checks = run_checks(env.settings())
    if as_json:
        env.print_json([asdict(c) for c in checks])
    else:
        table = Table(title="memoryos doctor")
        table.add_column("check")
        table.add_column("status")
        table.add_column("detail")
        for c in checks:
            table.add_row(c.name, "ok" if c.ok else "[red]FAIL[/red]", c.detail)
        env.console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(int(ExitCode.ERROR))


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
