"""`memoryos mcp`: the stdio MCP server for other agents."""

from __future__ import annotations

from typing import Annotated

import typer

from memoryos_cli.cli.env import get_env


def mcp(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option(
            "--home", help="Data directory (overrides the global --home).", metavar="<path>"
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Whose memory to serve.")] = None,
    assistant: Annotated[
        str | None, typer.Option("--assistant", help="Which assistant persona.")
    ] = None,
) -> None:
    """Serve this memory to other agents over MCP (stdio).

    Tools: add_memory, retrieve_memory, search_memory, get_user_profile,
    forget_memory, list_segments. Resources: memoryos://profile, memoryos://stats.

    No chat model is loaded: storage and recall work at once, and
    consolidation stays queued for `memoryos chat`.

    Client config: {"mcpServers": {"memoryos": {"command": "memoryos",
    "args": ["mcp", "--user", "me"]}}}
    """
    from memoryos_cli.mcp_server import serve

    env = get_env(ctx)
    env.choose(home, user, assistant)
    serve(env.settings())


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
