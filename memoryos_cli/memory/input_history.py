"""The chat's input history: every line typed in `memoryos chat` (prompt-toolkit's file).

The file is a list of entries, each a `# <time>` line and the typed text as `+` lines;
erasure drops whole entries and rewrites the file atomically, private (0600).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from memoryos_cli.files import write_private
from memoryos_cli.words import holds


def _entries(path: Path) -> list[tuple[bytes, str]]:
    """(raw bytes, typed text) of each entry, in file order; none when there is no file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    entries: list[tuple[bytes, str]] = []
    raw: list[bytes] = []
    typed: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if typed and not line.startswith(b"+"):
            entries.append((b"".join(raw), b"".join(typed).decode("utf-8", "replace")))
            raw, typed = [], []
        raw.append(line)
        if line.startswith(b"+"):
            typed.append(line[1:])
    if raw:
        entries.append((b"".join(raw), b"".join(typed).decode("utf-8", "replace")))
    return entries


def _chosen(typed: str, needle: str | None, lines: Collection[str]) -> bool:
    """An entry that contains `needle` or was typed as one of `lines` (a forgotten page's
    message); every entry when neither is given."""
    if needle is None and not lines:
        return True
    return (needle is not None and holds(typed, needle)) or typed.strip() in lines


def count(path: Path, needle: str | None = None, lines: Collection[str] = ()) -> int:
    """How many typed entries contain `needle` (case-insensitive) or are one of `lines`;
    all of them when neither is given."""
    lines = {line.strip() for line in lines}
    return sum(1 for _, typed in _entries(path) if typed and _chosen(typed, needle, lines))


def erase(path: Path, needle: str | None = None, lines: Collection[str] = ()) -> int:
    """Remove the entries `count` counts (every entry when neither is given); how many."""
    lines = {line.strip() for line in lines}
    entries = _entries(path)
    gone = [typed for _, typed in entries if typed and _chosen(typed, needle, lines)]
    if not gone:
        return 0
    kept = [raw for raw, typed in entries if not (typed and _chosen(typed, needle, lines))]
    write_private(path, b"".join(kept))
    return len(gone)
