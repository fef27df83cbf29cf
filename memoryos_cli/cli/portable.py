"""`memoryos export` and `memoryos import`: the whole memory of one user, in or out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from memoryos_cli.cli import journal
from memoryos_cli.cli.env import Env, get_env
from memoryos_cli.cli.words import counted
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.files import write_private

FORMATS = ("json", "md")


def _write(env: Env, output: Path | None, text: str) -> bool:
    """`text` to the file (0600) or, without one, to stdout; True when written to a file."""
    if output is None:
        env.console.file.write(text)
        env.console.file.flush()
        return False
    output = output.expanduser()
    if output.is_dir():
        example = output / "memoryos.json"
        raise InvalidInputError(f"{output} is a folder; give a file, e.g. {example}")
    if not output.parent.is_dir():
        raise InvalidInputError(f"cannot write {output}: there is no folder {output.parent}")
    try:
        write_private(output, text)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    return True


def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (0600); stdout if omitted or -."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="json (lossless) or md (a journal).")
    ] = "json",
    embeddings: Annotated[
        bool, typer.Option("--embeddings", help="Include vectors (import then skips re-embedding).")
    ] = False,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON schema of the export file instead.")
    ] = False,
) -> None:
    """Everything memoryos knows about this user: every tier, lossless as JSON."""
    from memoryos_cli.api import Memoryos  # imported here: it is slow, and every start pays

    if fmt not in FORMATS:
        raise InvalidInputError("--format must be json or md")
    if embeddings and fmt == "md":
        raise InvalidInputError("--embeddings is for the JSON export; a journal holds no vectors")
    if output is not None and str(output) == "-":
        output = None
    env = get_env(ctx)
    if schema:
        if _write(env, output, json.dumps(Memoryos.export_schema(), indent=2) + "\n"):
            env.console.print(Text(f"wrote the export file's JSON schema to {output}"))
        return
    with env.memoryos() as mem:
        exported = mem.export(embeddings=embeddings)
        zone = mem.settings.zone
    text = exported.to_json() if fmt == "json" else journal.render(exported, zone)
    if _write(env, output, text):
        env.console.print(
            Text(f"exported {counted(len(exported.pages), 'exchanges')}, "
                 f"{counted(len(exported.knowledge), 'facts')} and "
                 f"{counted(len(exported.profile), 'profile items')} to {output}")
        )  # fmt: skip


def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A file made by `memoryos export` (JSON); - reads stdin.")
    ],
) -> None:
    """Restore or merge an export into this memory, all or nothing, without duplicates."""
    from memoryos_cli.api import Memoryos

    env = get_env(ctx)
    # the whole file is checked before the store is opened
    exported = Memoryos.read_export(env.stdin if str(file) == "-" else file)
    with env.memoryos() as mem:
        counts = mem.import_(exported)
        who = f"{mem.settings.user_id} with {mem.settings.assistant_id}"
    env.console.print(
        Text(f"imported {counted(counts.pages, 'exchanges')} ({counts.duplicate_pages} "
             f"already here), {counted(counts.segments, 'segments')}, "
             f"{counted(counts.facts, 'facts')}, "
             f"{counted(counts.profile_items, 'profile items')} into {who}")
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)
