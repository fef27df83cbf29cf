"""Counts told in words, for people: "1 fact", "2 facts", "1 history entry"."""

from __future__ import annotations


def counted(n: int, things: str) -> str:
    """`n` with the plural noun `things`, made singular for one."""
    if n != 1:
        return f"{n} {things}"
    one = things[:-3] + "y" if things.endswith("ies") else things.removesuffix("s")
    return f"{n} {one}"


def counts_line(counts: dict[str, int]) -> str:
    """What a forget counts, in words: "1 fact, 3 pages" ("nothing" for none)."""
    parts = [counted(n, name.replace("_", " ")) for name, n in sorted(counts.items()) if n]
    return ", ".join(parts) if parts else "nothing"
