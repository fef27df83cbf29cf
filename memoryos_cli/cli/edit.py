"""Commands that change memory by hand: add, remember, forget, config set, reindex. Thin:
they parse, call the api, render.

User text is never read as rich markup: it always goes into `Text` objects.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from memoryos_cli.cli.env import get_env
from memoryos_cli.cli.inspect import JsonFlag, clip, config_app, opened
from memoryos_cli.cli.words import counted, counts_line
from memoryos_cli.clock import when
from memoryos_cli.errors import InvalidInputError, NotFoundError


def add(
    ctx: typer.Context,
    user_input: Annotated[str, typer.Option("--user-input", help="What the user said.")],
    response: Annotated[str, typer.Option("--response", help="What the assistant answered.")],
    timestamp: Annotated[
        str | None,
        typer.Option("--timestamp", help="When (ISO 8601; local time if no zone); now if omitted."),
    ] = None,
) -> None:
    """Store one exchange, as if it had been said in a chat (no model needed)."""
    env = get_env(ctx)
    if not user_input.strip():
        raise InvalidInputError("--user-input is empty; an exchange starts with what was said")
    with opened(ctx) as mem:
        page_id = mem.add_memory(user_input, response, timestamp)
        page = mem.pages([page_id])[0]
    stamp = when(page.ts, mem.settings.zone)
    env.console.print(Text(f"stored p{page_id} ({stamp}, {page.tier}-term)"))


def remember(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(help="The fact, in a sentence, quoted or not.")],
    assistant: Annotated[
        bool, typer.Option("--assistant", help="A fact about the assistant, not the user.")
    ] = False,
) -> None:
    """Store a fact in long-term knowledge directly."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        fact_id = mem.remember(" ".join(words), "assistant" if assistant else "user")
    env.console.print(Text(f"remembered k{fact_id}"))


def forget(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(help="What to forget: p12 page, k3 fact, u4 profile item, s5 segment."),
    ] = None,
    match: Annotated[
        str | None, typer.Option("--match", help="Forget everything whose text contains this.")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Forget this whole memory.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase memories for good: rows, indexes, derived facts, typed chat lines and the WAL.

    Shows exactly what will change and asks first: pages and what was learned only from
    them go; a fact that other pages also support stays, citing only those.
    """
    env = get_env(ctx)
    if sum(x is not None and x is not False for x in (ref, match, everything or None)) != 1:
        raise InvalidInputError("give exactly one of: an id, --match TEXT, --all")
    with opened(ctx) as mem:

        def forgetting(**how: Any) -> Any:
            """The forget asked for: its preview (dry_run) or the delete of a preview's plan."""
            if everything:
                return mem.forget_all(**how)
            if match is not None:
                return mem.forget_matching(match, **how)
            assert ref is not None
            return mem.forget(ref, **how)

        plan = forgetting(dry_run=True)
        if not plan.changes:
            if match is not None:
                # As `forget p999` does: a script learns that what it named was not there.
                raise NotFoundError(f"nothing in this memory matches {match!r}")
            env.console.print(Text("nothing to forget"))
            return
        if everything:
            st = mem.settings
            whose = f"{counts_line(plan.counts)} of {st.user_id} with {st.assistant_id}"
            rows = [("all", "forget", whose)]
        else:
            rows = [(c.ref, c.action, c.what) for c in plan.changes]
        table = Table(title="Will be forgotten", title_justify="left")
        table.add_column("id", no_wrap=True)
        table.add_column("change")
        table.add_column("what")
        for r, action, what in rows:
            table.add_row(r, action, clip(what))
        env.console.print(table)
        if not yes and not _confirmed(env):
            raise typer.Exit(1)
        counts = forgetting(expect=plan)
    env.console.print(Text(f"forgot {counts_line(counts)}"))


def _confirmed(env: Any) -> bool:
    """The user's yes to a forget; no answer (no terminal, end of input) is a no that says
    how to confirm without one."""
    try:
        if typer.confirm("Forget these for good?", default=False):
            return True
    except typer.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise  # Ctrl-C: the interrupt's own exit
        env.console.print("kept everything: no answer came (add --yes to forget without asking)")
        return False
    env.console.print("kept everything")
    return False


def config_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name, as `config show` lists it.")],
    value: Annotated[str, typer.Argument(help="New value.")],
) -> None:
    """Set one setting in config.toml."""
    from memoryos_cli.config import (
        env_override,
        load_settings,
        read_config_file,
        write_config_value,
    )

    env = get_env(ctx)
    settings = env.settings()
    write_config_value(settings, key, value)
    # the file's value, resolved as settings resolve it (a relative path against the
    # home), without the variable that may override it
    in_file = read_config_file(settings.config_path)[key]
    written = getattr(load_settings(settings.home, **{key: in_file}), key)
    env.console.print(Text(f"{key} = {written} (in {settings.config_path})"))
    variable = env_override(key)
    if variable:  # it wins over the file: say what is in force
        in_force = getattr(load_settings(settings.home), key)
        env.console.print(Text(f"{variable} is set, so {key} = {in_force} while it is"))


def config_unset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name, as `config show` lists it.")],
) -> None:
    """Take one setting out of config.toml: its default (or MEMORYOS_*) is in force again."""
    from memoryos_cli.config import env_override, load_settings, remove_config_value

    env = get_env(ctx)
    settings = env.settings()
    removed = remove_config_value(settings, key)
    in_force = getattr(load_settings(settings.home), key)
    where = env_override(key) or "default"
    said = "removed from" if removed else "was not set in"
    env.console.print(Text(f"{key} {said} {settings.config_path}; {key} = {in_force} ({where})"))


def about(seconds: float) -> str:
    """A duration for people: whole seconds, and minutes once it is long."""
    n = max(1, round(seconds))
    return f"about {n} s" + (f" ({n / 60:.0f} min)" if n >= 120 else "")


def reindex(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Re-embed every page, segment and fact with the configured embedder.

    After a change of embedder, or to move a memory made with an older default to today's.

    One transaction: interrupted, the memory stays as it was, on its old embedder.
    """
    # imported here: they are slow, and every start would pay
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from memoryos_cli.api import Memoryos

    env = get_env(ctx)
    settings = env.settings()
    if as_json:
        with env.console.status("re-embedding…"):
            env.print_json(Memoryos.reindex(settings))
        return
    # Piped, there is no bar (it would print its last state): the lines around it say it all.
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=env.console, disable=not env.console.is_terminal,
    )  # fmt: skip
    task = bar.add_task("loading the embedder…", total=None)

    def estimated(plan: Any) -> None:
        env.console.print(Text(
            f"re-embedding {counted(plan.pages, 'pages')} and {counted(plan.facts, 'facts')}"
            f" with {plan.embedder}: "
            f"{about(plan.seconds)}"
        ))  # fmt: skip
        bar.update(task, description="re-embedding")

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    try:
        with bar:
            result = Memoryos.reindex(settings, progress=progress, estimated=estimated)
    except KeyboardInterrupt:
        env.console.print(Text("interrupted: nothing changed; run `memoryos reindex` again"))
        raise
    env.console.print(Text(
        f"reindexed {counted(result['pages'], 'pages')}, "
        f"{counted(result['segments'], 'segments')} and {counted(result['facts'], 'facts')}"
        f" with {result['embedder']} ({result['dim']}-d)"
    ))  # fmt: skip


def register(app: typer.Typer) -> None:
    # "-1" is a value here (seed -1), not an option
    config_app.command("set", context_settings={"ignore_unknown_options": True})(config_set)
    config_app.command("unset")(config_unset)
    for fn in (add, remember, forget, reindex):
        app.command(fn.__name__)(fn)
