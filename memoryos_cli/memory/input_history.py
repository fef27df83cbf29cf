"""The chat's input history: every line typed in `memoryos chat` (prompt-toolkit's file).

The file is a list of entries, each a `# <time>` line and the typed text as `+` lines;
erasure drops whole entries and rewrites the file atomically, private (0600).
"""

from __future__ import annotations

from pathlib import Path

from memoryos_cli.files import write_private


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


def _matches(typed: str, needle: str) -> bool:
    return needle.casefold() in typed.casefold()


def count(path: Path, needle: str | None = None) -> int:
    """How many typed entries contain `needle` (case-insensitive), or all when None."""
    return sum(
        1 for _, typed in _entries(path) if typed and (needle is None or _matches(typed, needle))
    )


def erase(path: Path, needle: str | None = None) -> int:
    """Remove the entries containing `needle`, or every entry when None; returns how many."""
    entries = _entries(path)
    gone = [typed for _, typed in entries if typed and (needle is None or _matches(typed, needle))]
    if not entries or (needle is not None and not gone):
        return 0
    kept = b"" if needle is None else b"".join(raw for raw, t in entries if not _matches(t, needle))
    write_private(path, kept)
    return len(gone)
