"""The generation prompt, laid out for llama.cpp prefix reuse and held to a token budget.

Order: [system + profile] [recent turns] [recalled memories + query]. The recent-turn
window grows append-only and is cut in large steps (whole blocks of `capacity`
exchanges), so the evaluated prefix stays valid for many turns; recalled memories sit in
the last message, where changing them costs only their own tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memoryos_cli.llm import Message, prompts
from memoryos_cli.memory.records import Page, ProfileItem, Recall, RecallItem

MAX_PROFILE_LINES = 40
# Weakly matching pages cost prompt time (~1 s per 100 tokens on a laptop CPU) and add
# noise: a page enters the prompt only if its fused score is within this share of the best.
RELATIVE_PAGE_SCORE = 0.5


def window_start(page_ids: list[int], current_start: int | None, capacity: int) -> int | None:
    """First page id of the recent-turn window: moves only when the window reaches
    2 x capacity, and then jumps forward so `capacity` exchanges remain."""
    if not page_ids:
        return current_start
    if current_start is None:
        return page_ids[max(0, len(page_ids) - capacity)]
    inside = [p for p in page_ids if p >= current_start]
    if len(inside) >= 2 * capacity:
        return inside[len(inside) - capacity]
    return current_start


@dataclass
class BuiltPrompt:
    messages: list[Message]
    recalled: list[RecallItem]
    recalled_tokens: int


def profile_lines(profile: list[ProfileItem]) -> list[str]:
    return [f"{p.attribute.replace('_', ' ')}: {p.value}" for p in profile[:MAX_PROFILE_LINES]]


def prefix_messages(
    assistant: str,
    profile: list[ProfileItem],
    recent: list[Page],
    relationship: str = "friend",
    style_hint: str = "",
) -> list[Message]:
    """The stable part of the prompt: worth evaluating while the user types."""
    messages = [prompts.system_message(assistant, profile_lines(profile), relationship, style_hint)]
    for page in recent:
        messages.append({"role": "user", "content": page.user_input})
        messages.append({"role": "assistant", "content": page.agent_response})
    return messages


def build(
    query: str,
    recall: Recall,
    recent: list[Page],
    *,
    assistant: str,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
    relationship: str = "friend",
    style_hint: str = "",
) -> BuiltPrompt:
    shown = {p.id for p in recent}
    pages = [i for i in recall.mid_term if i.page is None or i.page.id not in shown]
    pages += [i for i in recall.short_term if i.page is not None and i.page.id not in shown]
    best = max((i.score for i in pages), default=0.0)
    relevant = [i for i in pages if i.score >= RELATIVE_PAGE_SCORE * best]
    candidates = list(recall.knowledge) + sorted(relevant, key=lambda i: -i.score)
    chosen: list[RecallItem] = []
    lines: list[str] = []
    used = 0
    for item in candidates:
        line = prompts.recalled_line(item.ts, item.text)
        cost = count_tokens(line)
        if used + cost > budget_tokens:
            continue
        chosen.append(item)
        lines.append(line)
        used += cost
    messages = prefix_messages(assistant, recall.profile, recent, relationship, style_hint)
    messages.append(prompts.user_turn(query, lines))
    return BuiltPrompt(messages, chosen, used)
