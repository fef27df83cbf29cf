"""An export rendered as a readable Markdown journal (`memoryos export --format md`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from memoryos_cli.cli.env import CONTROL_PICTURES
from memoryos_cli.cli.words import counted
from memoryos_cli.clock import local

if TYPE_CHECKING:  # the models are imported with the command, not at CLI start
    from memoryos_cli.memory.portable.format import ExportFile


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def render(export: ExportFile, zone: dt.tzinfo) -> str:
    """Profile and knowledge first, then every exchange by the day it was in `zone`; control
    characters but newline and tab shown as their pictures, as on screen."""
    out = [f"# memoryos journal: {export.user_id} with {export.assistant_id}", ""]
    out.append(
        f"{counted(len(export.pages), 'exchanges')}, exported"
        f" {local(export.exported_at or 0.0, zone):%Y-%m-%d %H:%M %Z}."
        f" Times are in {zone}."
    )
    active = [p for p in export.profile if p.superseded_by is None]
    if active:
        out += ["", "## Profile", ""]
        out += [
            f"- **{p.attribute}**: {p.value} (u{p.id}, evidence {p.evidence_count})" for p in active
        ]
    for kind, title in (("user", "What I know about the user"), ("assistant", "What I know")):
        facts = [
            f
            for f in export.knowledge
            if f.kind == kind and f.superseded_by is None and not f.archived
        ]
        if facts:
            out += ["", f"## {title}", ""]
            out += [f"- {f.text} (k{f.id}, {local(f.ts, zone):%Y-%m-%d})" for f in facts]
    day = None
    for page in sorted(export.pages, key=lambda p: (p.ts, p.id)):
        this_day = f"{local(page.ts, zone):%Y-%m-%d}"
        if this_day != day:
            day = this_day
            out += ["", f"## {day}"]
        out += ["", f"### {local(page.ts, zone):%H:%M} · p{page.id}", ""]
        out += ["**User:**", "", _quote(page.user_input), ""]
        out += ["**Assistant:**", "", _quote(page.agent_response)]
    # A journal is for reading: `cat` of a remembered escape would clear the screen.
    return ("\n".join(out) + "\n").translate(CONTROL_PICTURES)
