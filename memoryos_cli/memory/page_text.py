"""An exchange as text: each side on a line opened by its speaker ("User: ...")."""

from __future__ import annotations

import re

# "Caroline: Hey Mel!": a line that opens with a speaker's name (an imported chat's turn,
# or a small model's fact written as a chat line).
SPEAKER_TAG = re.compile(r"^\s*[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)?:\s")


def page_text(user_input: str, agent_response: str) -> str:
    """How a page is embedded and shown to models: both sides of the exchange."""
    return f"User: {user_input}\nAssistant: {agent_response}"
