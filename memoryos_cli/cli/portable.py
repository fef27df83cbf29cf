"""`memoryos export` and `memoryos import`: the whole memory of one user, in or out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from memoryos_cli.cli.env import get_env
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory import portable

FORMATS = ("json", "md")


def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (0600); stdout if omitted.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="json (lossless) or md (a journal).")
    ] = "json",
    embeddings: Annotated[
        bool, typer.Option("--embeddings", help="Include vectors (import then skips re-embedding).")
    ] = False,
) -> None:
    """Everything memoryos knows about this user: every tier, lossless as JSON."""
    if fmt not in FORMATS:
        raise InvalidInputError("--format must be json or md")
    env = get_env(ctx)
    mem = env.memoryos()
    try:
        data = portable.export_data(mem.scope, embeddings=embeddings)
    finally:
        mem.close()
    text = portable.to_json(data) if fmt == "json" else portable.to_markdown(data)
    if output is None:
        env.console.file.write(text)
        env.console.file.flush()
        return
    portable.write_private(output, text)
    env.console.print(
        Text(f"exported {len(data['pages'])} exchanges, {len(data['knowledge'])} facts and "
             f"{len(data['profile'])} profile items to {output}")
    )  # fmt: skip


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file made by `memoryos export` (JSON).")],
) -> None:
    """Restore or merge an export into this memory, all or nothing, without duplicates."""
    env = get_env(ctx)
    data = portable.read_file(file)  # the whole file is checked before the store is opened
    mem = env.memoryos()
    try:
        counts = portable.import_data(mem.scope, data)
        who = f"{mem.settings.user_id} with {mem.settings.assistant_id}"
    finally:
        mem.close()
    env.console.print(
        Text(f"imported {counts['pages']} exchanges ({counts['duplicate_pages']} already here), "
             f"{counts['segments']} segments, {counts['facts']} facts, "
             f"{counts['profile_items']} profile items into {who}")
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)
