"""`memoryos doctor`: render `Memoryos.health()`, one row per check."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from memoryos_cli.cli.env import get_env
from memoryos_cli.errors import ExitCode


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Check the driver, sqlite-vec, FTS5, the models, the database and permissions.

    Each model's files are checked by sha256: the chat model, the embedder and the reranker.
    """
    from memoryos_cli.api import Memoryos  # imported here: it is slow, and every start pays

    env = get_env(ctx)
    checks = Memoryos.health(env.settings())
    if as_json:
        env.print_json([asdict(c) for c in checks])
    else:
        table = Table(title="memoryos doctor")
        table.add_column("check")
        table.add_column("status")
        table.add_column("detail")
        for c in checks:
            table.add_row(c.name, "ok" if c.ok else "[red]FAIL[/red]", c.detail)
        env.console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(int(ExitCode.ERROR))


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
