"""Read an export file: the whole of it is checked, and any problem is one line for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory.portable.format import FORMAT, FORMAT_VERSION, ExportFile
from memoryos_cli.store.migrations import MIGRATIONS

NOTHING = "nothing was imported"


def _fail(problem: str) -> InvalidInputError:
    return InvalidInputError(f"not a valid memoryos export: {problem}; {NOTHING}")


def _check_envelope(data: Any) -> None:
    """The marker and the versions, before the body: they say which model reads it."""
    if not isinstance(data, dict):
        raise _fail("the file is not a JSON object")
    if data.get("format") != FORMAT:
        raise _fail(f'the file has no "format": "{FORMAT}" marker')
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(f"format_version is {version!r}")
    if version > FORMAT_VERSION:
        raise InvalidInputError(
            f"this export has format version {version}, newer than this memoryos reads "
            f"({FORMAT_VERSION}); upgrade memoryos; {NOTHING}"
        )
    schema = data.get("schema_version")
    if (
        not isinstance(schema, int)
        or isinstance(schema, bool)
        or not 1 <= schema <= len(MIGRATIONS)
    ):
        raise InvalidInputError(
            f"this export has schema version {schema!r}; this memoryos supports 1.."
            f"{len(MIGRATIONS)} (upgrade memoryos); {NOTHING}"
        )


def _where(loc: tuple[int | str, ...]) -> str:
    """('pages', 3, 'ts') -> 'pages[3].ts'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ErrorDetails) -> str:
    """One pydantic error in the words the rest of memoryos uses."""
    loc, kind, ctx = error["loc"], error["type"], error.get("ctx") or {}
    where = _where(loc)
    if kind == "missing":
        return f"{_where(loc[:-1]) or 'the file'} has no {loc[-1]!r}"
    if kind == "value_error":  # our own checks: their message says what is wrong
        return f"{where} {ctx['error']}".strip()
    if kind == "literal_error":
        return f"{where} is {_short(error['input'])}, not one of {ctx['expected']}"
    if kind in ("model_type", "dict_type"):
        return f"{where} is not an object"
    if kind == "list_type":
        return f"{where} is not a list"
    if kind.endswith("_type"):
        return f"{where} has the wrong type ({_short(error['input'])})"
    if kind in ("greater_than_equal", "less_than") and loc[-1] == "ts":  # a `Moment`
        return f"{where} is {_short(error['input'])}, outside the years 1900 to 8999"
    return f"{where} is {_short(error['input'])} ({error['msg'][0].lower()}{error['msg'][1:]})"


def validate(data: Any) -> ExportFile:
    """Check the whole file: format, versions, types, unique ids, references, vectors."""
    _check_envelope(data)
    try:
        return ExportFile.model_validate(data)
    except ValidationError as exc:
        raise _fail(_describe(exc.errors()[0])) from exc


def _not_json(word: str) -> Any:
    """NaN and Infinity: Python writes them, JSON has no such numbers (a heat of NaN would
    sort nowhere and carry into every later export)."""
    raise _fail(f"{word} is not a number JSON allows")


def parse(text: str) -> ExportFile:
    """The validated content of an export file (JSON text)."""
    try:
        data = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise _fail(
            f"broken or truncated JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    return validate(data)


def read_file(path: Path | str) -> ExportFile:
    """The validated content of the export file at `path`."""
    file = Path(path).expanduser()
    if file.is_dir():
        raise InvalidInputError(f"{path} is a folder, not an export file; {NOTHING}")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"no such file: {path}") from exc
    except UnicodeDecodeError as exc:
        raise _fail("not UTF-8 text (a binary file?)") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path} ({exc.strerror}); {NOTHING}") from exc
    return read_text(text)


def read_stream(stream: TextIO) -> ExportFile:
    """The validated content of an export piped in (`memoryos import -`)."""
    if stream.isatty():  # reading would wait for a file to be typed
        raise InvalidInputError(
            f"`import -` reads an export piped in, e.g. `memoryos import - < me.json`; {NOTHING}"
        )
    try:
        text = stream.read()
    except UnicodeDecodeError as exc:
        raise _fail("not UTF-8 text (a binary file?)") from exc
    return read_text(text)


def read_text(text: str) -> ExportFile:
    """The validated content of an export file's text."""
    if not text.strip():
        raise _fail("it is empty")
    if text.lstrip().startswith("#"):  # `export --format md` writes a journal to read
        raise _fail("a Markdown journal (`export --format md`) is for reading; import the JSON")
    return parse(text)
