"""The package's layers, read from its source: every import (function-level and
TYPE_CHECKING ones included) must run down the layers, never up or across.

    cli, mcp_server, bench  ->  api  ->  memory, health  ->  store, llm, embed  ->  leaves

The rule: a module imports its own unit and the units below it, never above. In detail:

- Leaves (the `memoryos_cli` package itself, errors, config, files, catalog, vector,
  words, clock) import only leaves: anyone may import them. The package's `__init__` may also
  import api, lazily, to offer `from memoryos_cli import Memoryos`.
- store, llm and embed import only themselves and leaves, not each other (what two of them
  share, such as `Vector` or the word tokenizer, lives in a leaf).
- memory and health import store, llm, embed and leaves; never api or a front end.
- api imports anything below it.
- The front ends speak to `Memoryos`. cli, mcp_server and bench may import: api; leaves;
  the record types api takes and returns (memory.records, memory.portable.format); llm and
  embed (their protocols, and the backends a caller builds to hand to `Memoryos`). Never
  store, health or the rest of memory.
- Two exceptions, both a front end reaching another: cli may import bench and mcp_server
  (it is their command line), and bench may import the public functions of memory (what
  it scores recall with: page texts, support, dates, the ablations' `Signals`), but not
  store.

Besides, cli, mcp_server and bench touch no private attribute of another object and never
reach through `Memoryos` into its store, connection or scope: the benches measure recall
through the same facade as every other front end (`search_pages` for the baselines).
"""

from __future__ import annotations

import ast
from pathlib import Path

import memoryos_cli

PACKAGE = Path(memoryos_cli.__file__).parent
ROOT = "memoryos_cli"

LEAVES = {"", "errors", "config", "files", "catalog", "vector", "words", "clock"}
BOTTOM = {"store", "llm", "embed"}
CORE = {"memory", "health"}
FRONT = {"cli", "mcp_server", "bench"}
RECORD_TYPES = {f"{ROOT}.memory.records", f"{ROOT}.memory.portable.format"}
# Attributes of `Memoryos` that hold its internals: a front end never reaches through them.
INTERNALS = {"store", "conn", "scope"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def unit(module: str) -> str:
    """The layer unit a module belongs to: its first name under the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(module: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import of this package in the file."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in known else base))
    return [(line, name) for line, name in found if name == ROOT or name.startswith(ROOT + ".")]


def allowed(source: str, target: str) -> bool:
    src, dst = unit(source), unit(target)
    if dst in LEAVES or src == dst:
        return True
    if source == ROOT:
        return dst == "api"
    if src in LEAVES:
        return False
    if src in BOTTOM:
        return False
    if src in CORE:
        return dst in BOTTOM
    if src == "api":
        return dst in BOTTOM | CORE
    assert src in FRONT
    if dst == "api" or dst in {"llm", "embed"} or target in RECORD_TYPES:
        return True
    if src == "cli":
        return dst in {"bench", "mcp_server"}
    if src == "bench":
        return dst == "memory"
    return False


def test_every_module_has_a_layer() -> None:
    every = LEAVES | BOTTOM | CORE | FRONT | {"api"}
    strays = sorted(m for m in modules() if unit(m) not in every)
    assert not strays, f"put these in a layer in {Path(__file__).name}: {strays}"


def test_imports_run_down_the_layers() -> None:
    found = modules()
    known = set(found)
    violations = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {target}"
        for module, path in found.items()
        for line, target in imports(module, path, known)
        if not allowed(module, target)
    ]
    assert not violations, "layer violations:\n" + "\n".join(violations)


def reaches_inside(source: str) -> list[tuple[int, str]]:
    """(line, attribute) for each private attribute of another object, and each of
    `Memoryos`'s internals, that the source touches."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        mine = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
        if (private and not mine) or node.attr in INTERNALS:
            found.append((node.lineno, node.attr))
    return found


def test_front_ends_touch_no_internals() -> None:
    files = [path for module, path in modules().items() if unit(module) in FRONT]
    violations = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: .{attr}"
        for path in files
        for line, attr in reaches_inside(path.read_text(encoding="utf-8"))
    ]
    assert not violations, "front ends reaching inside:\n" + "\n".join(violations)


def test_the_check_sees_a_violation() -> None:
    assert not allowed(f"{ROOT}.cli.inspect", f"{ROOT}.store")
    assert not allowed(f"{ROOT}.cli.inspect", f"{ROOT}.memory.heat")
    assert not allowed(f"{ROOT}.embed.hashing", f"{ROOT}.memory.keywords")
    assert not allowed(f"{ROOT}.store.vectors", f"{ROOT}.embed")
    assert not allowed(f"{ROOT}.memory.keywords", f"{ROOT}.cli.env")
    assert not allowed(f"{ROOT}.llm.prompts", f"{ROOT}.api")
    assert allowed(f"{ROOT}.cli.inspect", f"{ROOT}.memory.records")
    assert reaches_inside("with mem.store.lock:\n    mem.store.conn.execute('x')")
    assert reaches_inside("mem._llm.cancel()")
    assert not reaches_inside("self._lock = None\nmem.settings.zone")
