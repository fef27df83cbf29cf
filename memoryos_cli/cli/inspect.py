"""Commands that look inside memory: profile, memory tiers, search, stats, config show
(`edit.py` has those that change it). Thin: they parse, call the api, render.

User text is never read as rich markup: it always goes into `Text` objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from memoryos_cli.catalog import DEFAULT_EMBEDDER
from memoryos_cli.cli.env import get_env
from memoryos_cli.cli.words import counted
from memoryos_cli.clock import SystemZone, when
from memoryos_cli.errors import InvalidInputError
from memoryos_cli.memory.records import as_dict

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
BAR_WIDTH = 12
PREVIEW_CHARS = 160

profile_app = typer.Typer(help="The user profile learned from conversations.", no_args_is_help=True)
memory_app = typer.Typer(help="Look inside each memory tier.", no_args_is_help=True)
config_app = typer.Typer(help="Show or change settings (config.toml).", no_args_is_help=True)


# -- helpers ---------------------------------------------------------------------------


@contextmanager
def opened(ctx: typer.Context) -> Iterator[Any]:
    """The memory of the selected user/assistant, closed afterwards."""
    mem = get_env(ctx).memoryos()
    try:
        yield mem
    finally:
        mem.close()


def clip(text: str, limit: int = PREVIEW_CHARS) -> Text:
    """User text, shortened for a table cell, never interpreted as markup."""
    text = " ".join(text.split())
    return Text(text if len(text) <= limit else text[: limit - 1] + "…")


def heat_bar(heat: float, threshold: float) -> Text:
    """Heat as a bar filled towards the analysis threshold, with its value."""
    filled = min(BAR_WIDTH, round(BAR_WIDTH * heat / threshold)) if threshold > 0 else BAR_WIDTH
    return Text.assemble(
        ("█" * filled, "red" if heat >= threshold else "yellow"),
        ("░" * (BAR_WIDTH - filled), "dim"),
        f" {heat:.2f}",
    )


def parse_segment_id(value: str) -> int:
    text = value.strip().lower().removeprefix("s")
    if not text.isdigit():
        raise InvalidInputError(f"{value!r} is not a segment id; use s5 or 5")
    return int(text)


def page_panel(page: Any, zone: dt.tzinfo) -> Panel:
    body = Group(
        Text.assemble(("User: ", "bold cyan"), page.user_input),
        Text.assemble(("Assistant: ", "bold green"), page.agent_response),
    )
    where = page.tier if page.segment_id is None else f"{page.tier}, s{page.segment_id}"
    title = Text(f"{page.ref} · {when(page.ts, zone)} · {where}")
    return Panel(body, title=title, title_align="left")


def pages_table(pages: list[Any], title: str, zone: dt.tzinfo) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("when", no_wrap=True)
    table.add_column("user")
    table.add_column("assistant")
    for page in pages:
        table.add_row(
            page.ref, when(page.ts, zone), clip(page.user_input), clip(page.agent_response)
        )
    return table


# -- profile ---------------------------------------------------------------------------


@profile_app.command("show")
def profile_show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The current profile: each trait with its evidence count and last update."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        items = mem.profile()
    if as_json:
        env.print_json([as_dict(i) for i in items])
        return
    if not items:
        env.console.print("No profile yet: it is learned when conversations are consolidated.")
        return
    table = Table(title="Profile", title_justify="left")
    for col in ("id", "attribute", "value", "evidence", "updated", "sources"):
        table.add_column(col, no_wrap=col in ("id", "evidence", "updated"))
    for i in items:
        table.add_row(
            i.ref, Text(i.attribute), Text(i.value), str(i.evidence_count),
            when(i.updated_at, mem.settings.zone),
            " ".join(f"p{p}" for p in i.source_page_ids),
        )  # fmt: skip
    env.console.print(table)


@profile_app.command("set")
def profile_set(
    ctx: typer.Context,
    attribute: Annotated[str, typer.Argument(help="The trait: diet, allergies, city, job...")],
    value: Annotated[
        list[str],
        typer.Argument(help="Its value, quoted or not: vegetarian, peanuts and shellfish..."),
    ],
) -> None:
    """Tell the profile one trait directly; a new value supersedes the old (see history)."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        item_id = mem.set_profile(attribute, " ".join(value))
        item = next(i for i in mem.profile() if i.id == item_id)
    env.console.print(Text(f"{item.ref}: {item.attribute} = {item.value}"))


def _chains(items: list[Any]) -> list[list[Any]]:
    """Items linked by superseded_by, oldest first; only chains with a change or an end."""
    by_id = {i.id: i for i in items}
    newer = {i.superseded_by for i in items if i.superseded_by is not None}
    heads = [i for i in items if i.superseded_by is None or i.superseded_by not in by_id]
    chains = []
    for head in heads:
        chain = [head]
        while True:
            older = [i for i in items if i.superseded_by == chain[-1].id]
            if not older:
                break
            chain.append(min(older, key=lambda i: i.id))
        chains.append(list(reversed(chain)))
    return [c for c in chains if len(c) > 1 or c[0].id in newer or getattr(c[0], "archived", False)]


@profile_app.command("history")
def profile_history(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """How each profile attribute and fact changed: superseded values, dates, sources."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        profile, facts = mem.profile(history=True), mem.knowledge(history=True)
    if as_json:
        env.print_json(
            {
                "profile": [as_dict(i) for i in profile],
                "knowledge": [as_dict(f) for f in facts if f.superseded_by or f.archived
                              or any(o.superseded_by == f.id for o in facts)],
            }
        )  # fmt: skip
        return
    if not profile and not facts:
        env.console.print("No history yet.")
        return
    table = Table(title="History", title_justify="left")
    for col in ("id", "what", "value", "since", "status", "sources"):
        table.add_column(col, no_wrap=col in ("id", "since"))
    by_attr: dict[str, list[Any]] = {}
    for item in profile:
        by_attr.setdefault(item.attribute, []).append(item)
    rows: list[tuple[Any, str, str]] = []
    for attr, items in sorted(by_attr.items()):
        for chain in _chains(items) or [[i] for i in items]:
            rows += [(i, attr, i.value) for i in chain]
    for chain in _chains(facts):
        rows += [(f, f"{f.kind} fact", f.text) for f in chain]
    for item, what, value in rows:
        if item.superseded_by is not None:
            status = f"superseded by {item.ref[0]}{item.superseded_by}"
        elif getattr(item, "archived", False):
            status = "archived"
        else:
            status = "current"
        table.add_row(
            item.ref, Text(what), Text(value), when(item.ts, mem.settings.zone), status,
            " ".join(f"p{p}" for p in item.source_page_ids),
        )  # fmt: skip
    env.console.print(table)


# -- memory tiers ----------------------------------------------------------------------


@memory_app.command("short")
def memory_short(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Short-term memory: the latest exchanges, in the order they were added."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        pages, cap = mem.short_term(), mem.settings.short_term_capacity
    if as_json:
        env.print_json([as_dict(p) for p in pages])
        return
    env.console.print(pages_table(pages, f"Short-term ({len(pages)}/{cap})", mem.settings.zone))


@memory_app.command("mid")
def memory_mid(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Mid-term memory: topic segments, hottest first, with heat and its components."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        segs = mem.segments()
        data = [as_dict(s) for s in segs]
        threshold = mem.settings.mid_term_heat_threshold
    if as_json:
        env.print_json(data)
        return
    title = f"Mid-term ({counted(len(segs), 'segments')}, analysis at heat {threshold:g})"
    table = Table(title=title, title_justify="left")
    for col in ("id", "heat", "N_visit", "L_interaction", "recency", "pages", "summary"):
        table.add_column(col, no_wrap=col != "summary")
    for seg, row in zip(segs, data, strict=True):
        table.add_row(
            seg.ref, heat_bar(seg.heat, threshold), str(seg.n_visit), str(seg.l_interaction),
            f"{row['recency']:.2f}", str(seg.page_count), clip(seg.summary),
        )  # fmt: skip
    env.console.print(table)


@memory_app.command("long")
def memory_long(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Long-term memory: the profile, user knowledge and assistant knowledge."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        profile = mem.profile()
        user, assistant = mem.knowledge("user"), mem.knowledge("assistant")
        cap = mem.settings.long_term_knowledge_capacity
    if as_json:
        env.print_json(
            {
                "profile": [as_dict(i) for i in profile],
                "user_knowledge": [as_dict(f) for f in user],
                "assistant_knowledge": [as_dict(f) for f in assistant],
            }
        )
        return
    for title, facts in (("User knowledge", user), ("Assistant knowledge", assistant)):
        table = Table(title=f"{title} ({len(facts)}/{cap})", title_justify="left")
        for col in ("id", "fact", "evidence", "when", "sources"):
            table.add_column(col, no_wrap=col != "fact")
        for f in facts:
            table.add_row(
                f.ref, Text(f.text), str(f.evidence_count), when(f.ts, mem.settings.zone),
                " ".join(f"p{p}" for p in f.source_page_ids),
            )  # fmt: skip
        env.console.print(table)
    env.console.print(
        Text(f"Profile: {counted(len(profile), 'traits')}; see `memoryos profile show`.")
    )


@memory_app.command("segment")
def memory_segment(
    ctx: typer.Context,
    segment: Annotated[str, typer.Argument(help="Segment id: s5 or 5.")],
    as_json: JsonFlag = False,
) -> None:
    """One mid-term segment: its summary, heat and every page in it."""
    env = get_env(ctx)
    sid = parse_segment_id(segment)
    with opened(ctx) as mem:
        pages = mem.segment_pages(sid)
        seg = next(s for s in mem.segments() if s.id == sid)
        info = as_dict(seg)
        threshold = mem.settings.mid_term_heat_threshold
    if as_json:
        env.print_json({"segment": info, "pages": [as_dict(p) for p in pages]})
        return
    head = Group(
        Text(seg.summary),
        Text(f"keywords: {', '.join(seg.keywords)}"),
        Text.assemble(
            "heat ",
            heat_bar(seg.heat, threshold),
            f"  N_visit={seg.n_visit} L_interaction={seg.l_interaction}"
            f" recency={info['recency']:.2f}",
        ),  # fmt: skip
    )
    env.console.print(
        Panel(head, title=Text(f"{seg.ref} · {len(pages)} page(s)"), title_align="left")
    )
    for page in pages:
        env.console.print(page_panel(page, mem.settings.zone))


@memory_app.command("why")
def memory_why(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(
            help="A fact (k3) or profile item (u4). Without one: what the last analysis"
            " kept and dropped, and by which rule."
        ),
    ] = None,
    last: Annotated[
        int, typer.Option("--last", min=1, help="Without REF: this many recent analyses.")
    ] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Where a fact or profile item came from, or what the last analysis kept and dropped.

    With REF: the exchanges it was learned from. Without: what the consolidation rules did
    with the last analysis ("dropped by RULE: REASON")."""
    if ref is None:
        analysis_notes(ctx, last, as_json)
        return
    env = get_env(ctx)
    with opened(ctx) as mem:
        item = mem.find(ref)
        pages = mem.pages(item.source_page_ids)
    if as_json:
        env.print_json({"item": as_dict(item), "sources": [as_dict(p) for p in pages]})
        return
    text = item.text if item.ref.startswith("k") else f"{item.attribute}: {item.value}"
    status = (
        "current"
        if item.superseded_by is None
        else f"superseded by {item.ref[0]}{item.superseded_by}"
    )
    env.console.print(Panel(
        Text(text),
        title=Text(f"{item.ref} · evidence {item.evidence_count} · {status}"), title_align="left",
    ))  # fmt: skip
    if not pages:
        env.console.print("No source exchanges: it was remembered explicitly.")
    for page in pages:
        env.console.print(page_panel(page, mem.settings.zone))


NOTE_STYLE = {
    "kept": "green", "added": "green", "dropped": "red", "moved": "yellow", "changed": "yellow"
}  # fmt: skip


def analysis_notes(ctx: typer.Context, analyses: int, as_json: bool) -> None:
    """The notes of the newest analyses, one table each."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        entries = mem.analysis_log(analyses)
        zone = mem.settings.zone
    recent = dict.fromkeys((e.job_id, e.at) for e in entries)  # each analysis once, in order
    if as_json:
        env.print_json({"analyses": [
            {"job": job, "at": at, "notes": [asdict(e.note) for e in entries if e.job_id == job]}
            for job, at in recent
        ]})  # fmt: skip
        return
    if not entries:
        env.console.print("No analysis has run yet (or a forget cleared the log).")
        return
    for job, at in recent:
        notes = [e.note for e in entries if e.job_id == job]
        table = Table(title=f"analysis {job} · {when(at, zone)}", title_justify="left")
        for column in ("what", "kind", "item", "why"):
            table.add_column(column, overflow="fold")
        for note in notes:
            said = f"{note.action} by {note.rule}" if note.rule else note.action
            what = Text(said, style=NOTE_STYLE.get(note.action, ""))
            pages = ", ".join(f"p{p}" for p in note.sources)
            changed = note.result and note.result != note.item
            item = note.item + (f"\n→ {note.result}" if changed else "")
            item += f"  [{pages}]" if pages else ""
            table.add_row(what, note.kind, Text(item), Text(note.reason))
        env.console.print(table)


# -- search ----------------------------------------------------------------------------

TIER_CHOICES = ("short", "mid", "knowledge")


def search(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(help="What to look for, quoted or not.")],
    tier: Annotated[
        str | None, typer.Option("--tier", help="Only one tier: short, mid or knowledge.")
    ] = None,
    k: Annotated[int | None, typer.Option("-k", help="How many mid-term pages.", min=1)] = None,
    as_json: JsonFlag = False,
) -> None:
    """What would be recalled for WORDS, with scores, tiers and dates (heats nothing)."""
    env = get_env(ctx)
    query = " ".join(words)
    if not query.strip():
        raise InvalidInputError("the query is empty; say what to look for")
    if tier is not None and tier not in TIER_CHOICES:
        raise InvalidInputError(f"--tier must be one of {', '.join(TIER_CHOICES)}")
    with opened(ctx) as mem:
        recall = mem.search(query, k=k)
    groups = {"short": recall.short_term, "mid": recall.mid_term, "knowledge": recall.knowledge}
    chosen = [tier] if tier else list(TIER_CHOICES)
    if as_json:
        data: dict[str, Any] = {"query": query}
        data |= {name: [i.to_dict() for i in groups[name]] for name in chosen}
        env.print_json(data)
        return
    for name in chosen:
        items = groups[name]
        # short-term is recalled whole, in the order it was said; the other tiers in recall's
        # order, which the relevance judge's score ("judge") decides where it read them
        order = "all, in the order added" if name == "short" else "best first"
        table = Table(title=f"{name} ({len(items)}, {order})", title_justify="left")
        for col in ("id", "score", "judge", "similarity", "when", "text"):
            table.add_column(col, no_wrap=col != "text")
        for item in items:
            judged = "-" if item.relevance is None else f"{item.relevance:.2f}"
            table.add_row(
                item.ref, f"{item.score:.4f}", judged, f"{item.similarity:.3f}",
                when(item.ts, mem.settings.zone),
                clip(item.text),
            )  # fmt: skip
        env.console.print(table)


# -- stats, config ---------------------------------------------------------------------


def stats(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Counts per tier, job queue, file size, embedder and model.

    Says when a reindex would move the memory to a better embedder."""
    env = get_env(ctx)
    with opened(ctx) as mem:
        data = mem.stats()
        hint = mem.reindex_hint
    if as_json:
        data["reindex_hint"] = hint
        env.print_json(data)
        return
    table = Table(title="memoryos", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
        table.add_row(key, Text(str(value)))
    env.console.print(table)
    if hint is not None:
        env.console.print(Text(hint, style="dim"))


@config_app.command("show")
def config_show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every setting as resolved: defaults < config.toml < MEMORYOS_* < flags."""
    env = get_env(ctx)
    settings = env.settings()
    data = {k: str(v) if k == "home" else v for k, v in asdict(settings).items()}
    data["config_file"] = str(settings.config_path)
    data["db_path"] = str(settings.db_path)
    if as_json:
        env.print_json(data)
        return
    table = Table(title="Settings", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for key, value in data.items():
        unset = value == "" and _UNSET.get(key)
        table.add_row(key, Text(f"({unset()})", style="dim") if unset else Text(str(value)))
    env.console.print(table)


def _system_zone() -> str:
    return f"the system's: {dt.datetime.now(SystemZone()).tzname()}"


# What an empty setting means, for people (--json keeps the empty string it is).
_UNSET = {
    "embedder": lambda: f"the memory's own; {DEFAULT_EMBEDDER} for a new one",
    "timezone": _system_zone,
}


def register(app: typer.Typer) -> None:
    app.add_typer(profile_app, name="profile")
    app.add_typer(memory_app, name="memory")
    app.add_typer(config_app, name="config")
    for fn in (search, stats):
        app.command(fn.__name__)(fn)
