"""The package's layers, read from its source: every import (function-level and
TYPE_CHECKING ones included) must run down the layers, never up or across.

    cli, mcp_server, bench  ->  api  ->  memory, health  ->  store, llm, embed  ->  leaves

The rule: a module imports its own unit and the units below it, never above. In detail:

- Leaves (the `memoryos_cli` package itself, errors, config, files, catalog, vector,
  words, clock, cpu) import only leaves: anyone may import them. The package's `__init__` may also
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

One owner per table: SQL that names a table (FROM, INTO, UPDATE or JOIN it, in a string)
stands only in the module that owns it (OWNERS); others call that module's functions.
The store (connection, migrations, row and vector helpers) may name any table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import memoryos_cli
from memoryos_cli.store import VECTOR_TABLES

PACKAGE = Path(memoryos_cli.__file__).parent
ROOT = "memoryos_cli"

LEAVES = {"", "errors", "config", "files", "catalog", "vector", "words", "clock", "cpu"}
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


# Documented functions of the standard library whose names start with "_".
PUBLIC_UNDERSCORED = {("os", "_exit")}


def reaches_inside(source: str) -> list[tuple[int, str]]:
    """(line, attribute) for each private attribute of another object, and each of
    `Memoryos`'s internals, that the source touches."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in PUBLIC_UNDERSCORED:
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
    assert not reaches_inside("self._lock = None\nmem.settings.zone\nos._exit(130)")
    assert reaches_inside("env._exit(130)")


# -- one owner per table -------------------------------------------------------------------

# Each table, with the FTS and vector indexes built on it, by the module that owns it.
OWNERS = {
    "memory.pages": {"pages", "pages_fts", "pages_vec", "pages_bin", "sessions", "sessions_fts"},
    "memory.mid_term": {"segments", "segments_fts", "segments_vec"},
    "memory.long_term": {"profile_items", "knowledge", "knowledge_fts", "knowledge_vec"},
    "memory.jobs": {"jobs"},
    "memory.analysis_log": {"analysis_log"},
    "store": {"owners", "meta", "schema_migrations", "id_floors"},
}
OWNER_OF = {table: f"{ROOT}.{owner}" for owner, tables in OWNERS.items() for table in tables}
# Modules that read several owners' tables in one query or one place, each with why.
SHARED_READERS = {
    f"{ROOT}.memory.retrieve": "recall reads every index in one place",
}
# FROM, INTO, UPDATE or JOIN a table: named (any case), or a placeholder ("{") that may
# name any (after the keyword in capitals: "from {path}" is prose).
SQL_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
SQL_PLACEHOLDER = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+\{")


def sql_tables(source: str) -> list[tuple[int, str]]:
    """(line, table) for each table that SQL in the source's strings names, docstrings
    aside; "{" where an f-string's placeholder stands for it."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # An f-string's literal parts are read with it, placeholders in place.
    fstrings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
    skip = docstrings | {id(part) for node in fstrings for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "{" for v in node.values]
            text = "".join(str(p) for p in parts)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in skip:
                continue
            text = node.value
        else:
            continue
        found += [(node.lineno, "{") for _ in SQL_PLACEHOLDER.finditer(text)]
        found += [
            (node.lineno, name)
            for match in SQL_TABLE.finditer(text)
            if (name := match.group(1).lower()) in OWNER_OF
        ]
    return found


def misplaced(module: str, table: str) -> bool:
    """Whether SQL naming `table` ("{": any table) may not stand in `module`."""
    if unit(module) == "store" or module in SHARED_READERS:
        return False
    if table == "{":  # only an owner builds SQL for a table it picks (its own)
        return module not in OWNER_OF.values()
    return OWNER_OF[table] != module


def test_every_table_has_one_owner() -> None:
    store = PACKAGE / "store"
    created = set(VECTOR_TABLES)
    for path in store.glob("*.py"):
        created |= set(
            re.findall(
                r"CREATE (?:VIRTUAL )?TABLE (?:IF NOT EXISTS )?([a-z_]\w*)", path.read_text()
            )
        )
    assert created == set(OWNER_OF), f"give these tables an owner: {created ^ set(OWNER_OF)}"


def test_sql_names_a_table_only_in_its_owner() -> None:
    violations = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {'a table' if table == '{' else table}"
        f" belongs to {OWNER_OF.get(table, 'its owner')}"
        for module, path in modules().items()
        for line, table in sql_tables(path.read_text(encoding="utf-8"))
        if misplaced(module, table)
    ]
    assert not violations, "SQL outside its table's owner:\n" + "\n".join(violations)


def test_the_owner_check_sees_a_violation() -> None:
    consolidate = f"{ROOT}.memory.consolidate"
    raw = "conn.execute(\"UPDATE jobs SET state = 'done' WHERE id = ?\", (1,))"
    assert [(misplaced(consolidate, t)) for _, t in sql_tables(raw)] == [True]
    joined = 'conn.execute(f"SELECT p.id FROM pages p JOIN {table} t ON t.id = p.segment_id")'
    assert sorted(t for _, t in sql_tables(joined)) == ["pages", "{"]
    assert all(misplaced(consolidate, t) for _, t in sql_tables(joined))
    assert not sql_tables('f"cannot load embedder from {path}"')
    assert not misplaced(f"{ROOT}.memory.jobs", "jobs")
    assert not misplaced(f"{ROOT}.store.migrations", "jobs")
    assert not sql_tables('def f():\n    """Facts learned from pages that stay."""\n')
