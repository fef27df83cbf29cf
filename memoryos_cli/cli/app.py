"""`memoryos`: the root command, global options, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from typing import Annotated, Any

import typer

from memoryos_cli import __version__
from memoryos_cli.cli.env import Env
from memoryos_cli.errors import ExitCode, MemoryosError
from memoryos_cli.files import MadePrivateWarning

app = typer.Typer(
    name="memoryos",
    help="A private, offline assistant that remembers you. All memory lives in one SQLite file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # markdown, not rich: rich kept each docstring line break, so help paragraphs broke
    # wherever the source line ended ("...learned only from" / "them go")
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"memoryos {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option(
            "--home",
            help="Data directory (default: MEMORYOS_HOME or the platform data dir).",
            metavar="<path>",
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Whose memory to use.")] = None,
    assistant: Annotated[
        str | None, typer.Option("--assistant", help="Which assistant persona.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Chat model: catalogue name or GGUF path.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """memoryos: chat with a local model that remembers you, and look inside its memory."""
    env = ctx.obj if isinstance(ctx.obj, Env) else Env()
    env.choose(home, user, assistant)
    env.model = model or env.model
    env.debug = debug or env.debug
    ctx.obj = env


def _register() -> None:
    from memoryos_cli.cli import chat

    chat.register(app)
    for name in ("inspect", "edit", "portable", "models", "doctor", "bench", "mcp"):
        try:
            module = __import__(f"memoryos_cli.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"memoryos_cli.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def _one_line_warning(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> None:
    """A warning meant for the user (`MadePrivateWarning`) as one line, the rest as Python
    prints them."""
    if issubclass(category, MadePrivateWarning):
        typer.secho(f"warning: {message}", err=True, fg="yellow")
    else:
        SHOW_WARNING(message, category, *args, **kwargs)


SHOW_WARNING = warnings.showwarning


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one clean line per error, tracebacks only with --debug."""
    os.umask(0o077)  # every file memoryos creates is private
    warnings.showwarning = _one_line_warning
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("MEMORYOS_DEBUG") == "1"
    try:
        # Not standalone: click then returns a command's `typer.Exit` code instead of
        # exiting, so it is passed on here (a failed doctor, a declined confirmation).
        code = app(args=args, standalone_mode=False)
    except MemoryosError as exc:
        if debug:  # the traceback, and still the error's own exit code (a script's `$?`)
            traceback.print_exc()
        else:
            typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        typer.echo("", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort as exc:
        # click turns Ctrl-C inside a command into Abort, the interrupt as its cause
        if isinstance(exc.__cause__, KeyboardInterrupt):
            sys.exit(int(ExitCode.INTERRUPTED))
        typer.echo("aborted", err=True)
        sys.exit(int(ExitCode.ERROR))
    except typer.TyperException as exc:
        # A usage error (unknown option, missing argument): typer raises only its own copy
        # of click's ClickException, which is not exported, so it is caught by its base.
        # Click's message and usage hint, and its exit status, 2 as a shell expects; nothing
        # went wrong that --debug would show.
        exc.show()  # type: ignore[attr-defined]
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # the unexpected
        if debug:
            raise
        from memoryos_cli.api import Memoryos  # here: every start would pay

        store_error = Memoryos.store_error(exc)
        if store_error is not None:  # the file, not memoryos: say what to do
            typer.secho(f"error: {store_error}", err=True, fg="red")
            sys.exit(int(store_error.exit_code))
        typer.secho(f"error: {type(exc).__name__}: {exc} (rerun with --debug)", err=True, fg="red")
        sys.exit(int(ExitCode.ERROR))
    sys.exit(code if isinstance(code, int) else int(ExitCode.OK))
