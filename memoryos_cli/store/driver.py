"""Pick a DB-API driver that can load sqlite-vec.

Many Pythons ship a `sqlite3` without `enable_load_extension` (pyenv and python.org
macOS builds, and this project's CI machine). `sqlean-py` is a drop-in with a current
SQLite, FTS5 and extension loading, so it comes first; stdlib is the fallback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from memoryos_cli.errors import StoreError

CANDIDATES = ("sqlean", "sqlite3")


@dataclass(frozen=True)
class Driver:
    name: str
    module: ModuleType

    @property
    def sqlite_version(self) -> str:
        return str(self.module.sqlite_version)


def can_load_extensions(module: ModuleType) -> bool:
    return hasattr(module.Connection, "enable_load_extension")


def choose_driver(candidates: tuple[str, ...] = CANDIDATES) -> Driver:
    """First importable module among `candidates` whose connections can load extensions."""
    tried: list[str] = []
    for name in candidates:
        try:
            module = importlib.import_module(name)
        except ImportError:
            tried.append(f"{name} (not installed)")
            continue
        if can_load_extensions(module):
            return Driver(name, module)
        tried.append(f"{name} (cannot load extensions)")
    raise StoreError(
        "no SQLite driver here can load sqlite-vec: tried "
        + ", ".join(tried)
        + "; run `pip install sqlean-py`"
    )


def load_sqlite_vec(conn: Any) -> str:
    """Load sqlite-vec into `conn` and return its version."""
    try:
        import sqlite_vec
    except ImportError as exc:
        raise StoreError("sqlite-vec is not installed; run `pip install sqlite-vec`") from exc
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
    except Exception as exc:  # driver-specific OperationalError types
        raise StoreError(f"could not load sqlite-vec ({exc}); run `memoryos doctor`") from exc
    return str(conn.execute("select vec_version()").fetchone()[0])
