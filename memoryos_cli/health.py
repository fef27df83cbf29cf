"""Health checks: everything memoryos needs on this machine, one result per check.

`Memoryos.health()` runs them and `memoryos doctor` renders them. None of them opens the
memory itself, so they work when it cannot be opened (that is when they are needed).
"""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memoryos_cli import catalog
from memoryos_cli.config import Settings
from memoryos_cli.embed.load import DEFAULT_EMBEDDER, NO_RERANKER
from memoryos_cli.errors import MemoryosError, ModelError


@dataclass(frozen=True)
class Check:
    """One check: what was checked, whether it passed, and what was found or what to do."""

    name: str
    ok: bool
    detail: str


def _driver() -> str:
    from memoryos_cli.store.driver import choose_driver

    driver = choose_driver()
    return f"{driver.name} (SQLite {driver.sqlite_version})"


def _memory_connection() -> Any:
    from memoryos_cli.store.driver import choose_driver

    return choose_driver().module.connect(":memory:")


def _sqlite_vec() -> str:
    from memoryos_cli.store.driver import load_sqlite_vec

    return f"sqlite-vec {load_sqlite_vec(_memory_connection())}"


def _fts5() -> str:
    conn = _memory_connection()
    conn.execute("create virtual table probe using fts5(body)")
    return "available"


def _model(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        if settings.model.lower() == "none":
            return "none configured (LLM-free mode)"
        path = catalog.verify(settings.model, settings)
        return f"{settings.model}: {path} (sha256 ok)"

    return check


def _llama_cpp() -> str:
    try:
        import llama_cpp  # noqa: F401 - importing loads the native library
    except ImportError as exc:
        raise ModelError(
            "llama-cpp-python is not installed; run `pip install llama-cpp-python`"
        ) from exc
    from importlib.metadata import version

    return f"llama-cpp-python {version('llama_cpp_python')}"


def _embedder(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        name, why = settings.embedder, ""
        indexed = _indexed_embedder(settings)
        if not name:
            name = indexed or DEFAULT_EMBEDDER
            why = " (this memory is indexed with it)" if indexed else ""
        elif indexed and indexed != name:
            # every command that reads the memory refuses it until then: say so here too
            raise MemoryosError(
                f"set to {name}, but this memory is indexed with {indexed}; run `memoryos "
                f'reindex` to move it, or `memoryos config set embedder ""` to keep {indexed}'
            )
        if name not in catalog.TEXT_MODELS:
            if not Path(name).expanduser().is_dir():
                catalog.get_text_model(name, "embedder")  # one error that lists the known names
            _need_module("sentence_transformers", "sentence-transformers")
            return f"{name} (sentence-transformers folder)"
        return _text_model(catalog.get_text_model(name, "embedder"), settings) + why

    return check


def _reranker(settings: Settings) -> Callable[[], str]:
    def check() -> str:
        if settings.reranker == NO_RERANKER:
            return "off (setting reranker = none)"
        return _text_model(catalog.get_text_model(settings.reranker, "reranker"), settings)

    return check


def _text_model(entry: catalog.TextModel, settings: Settings) -> str:
    """Its files present with their sha256 (the cached check), and its runtime importable."""
    folder = catalog.text_model_folder(entry, settings)
    if entry.backend == "sentence-transformers":
        _need_module("sentence_transformers", "sentence-transformers")
    else:
        _need_module("onnxruntime", "onnxruntime")
        _need_module("tokenizers", "tokenizers")
    return f"{entry.name}: {folder} (sha256 ok)"


def _need_module(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MemoryosError(f"{package} is missing; run `pip install {package}`")


def _indexed_embedder(settings: Settings) -> str | None:
    """The embedder an existing memory was indexed with (what `chat` loads when the setting
    is unset); None for a new home or a file that cannot be read (the database check says why)."""
    if not settings.db_path.exists():
        return None
    from memoryos_cli.store import Store

    try:
        store = Store(settings.db_path, migrate=False)
    except Exception:  # noqa: BLE001 - the database check reports it
        return None
    try:
        return store.get_meta("embedder")
    except Exception:  # noqa: BLE001 - the database check reports it
        return None
    finally:
        store.close()


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
        wanted = ((settings.home, 0o700), (settings.db_path, 0o600), (settings.config_path, 0o600))
        for path, want in wanted:
            if path.exists():
                mode = stat.S_IMODE(os.stat(path).st_mode)
                if mode & ~want:
                    problems.append(f"{path} is {mode:o} (run `chmod {want:o} {path}`)")
        if problems:
            raise MemoryosError("; ".join(problems))
        return "data dir 700, database and config 600"

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
        ("reranker", _reranker(settings)),
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
