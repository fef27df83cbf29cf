"""An exchange as text: each side on a line opened by its speaker ("User: ...")."""

from __future__ import annotations

import re

# "Caroline: Hey Mel!": a line that opens with a speaker's name (an imported chat's turn,
# or a small model's fact written as a chat line).
SPEAKER_TAG = re.compile(r"^\s*[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)?:\s")


def page_text(user_input: str, agent_response: str) -> str:
    """How a page is embedded and shown to models: both sides of the exchange, a side with
    nothing said left out. A bare "Assistant: " closing a recalled page is a cue to go on
    writing: before "What is Jon's attitude towards being part of the dance festival?",
    Qwen 1.5B answered ">>>" and a question of its own (the page was a session's last turn,
    which no one answered; a chat answer stopped before its first token is empty too)."""
    sides = [("User", user_input), ("Assistant", agent_response)]
    return "\n".join(f"{who}: {said}" for who, said in sides if said.strip()) or "User: "
