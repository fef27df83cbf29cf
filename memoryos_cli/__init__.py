"""memoryos: a private, offline chat assistant with hierarchical memory in one SQLite file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Memoryos", "__version__"]

if TYPE_CHECKING:
    from memoryos_cli.api import Memoryos


def __getattr__(name: str) -> Any:
    # Lazy so `import memoryos_cli` (and the CLI's first prompt) stays fast.
    if name == "Memoryos":
        from memoryos_cli.api import Memoryos

        return Memoryos
    raise AttributeError(name)
