"""`memoryos chat`: the REPL."""

from __future__ import annotations

import typer

from memoryos_cli.cli.env import get_env


def chat(ctx: typer.Context) -> None:
    """Talk with the assistant; every exchange is remembered across runs."""
    env = get_env(ctx)
    mem = env.memoryos()
    try:
        for line in env.stdin:
            query = line.strip()
            if not query:
                continue
            if query in {"/exit", "/quit"}:
                break
            for piece in mem.stream_response(query):
                env.console.print(piece, end="", markup=False, highlight=False)
            env.console.print()
    finally:
        mem.close()


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
