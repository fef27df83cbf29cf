"""`memoryos chat`: the REPL command."""

from __future__ import annotations

import typer

from memoryos_cli.cli.env import get_env


def chat(ctx: typer.Context) -> None:
    r"""Talk with the assistant; every exchange is remembered across runs.

    Slash commands: /help /profile /memory \[short|mid|long] /search TEXT /why
    /forget ID /remember TEXT /model /new /exit. Ctrl-C stops an answer, Ctrl-D leaves.
    """
    from memoryos_cli.cli.repl import run

    env = get_env(ctx)
    mem = env.memoryos()
    try:
        run(env, mem)
    finally:
        mem.close()


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
