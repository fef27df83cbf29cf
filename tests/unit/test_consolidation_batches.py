"""Consolidation batches fit the model's context under its own tokenizer, whatever the
language: a batch sized at 4 characters a token overflowed with Chinese text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm import Message
from memoryos_cli.llm.fake import ScriptedLLM
from memoryos_cli.memory import consolidate
from memoryos_cli.memory.context import message_tokens

T0 = 1_683_561_600.0  # Mon 8 May 2023
# Twelve ordinary exchanges in Chinese: about one token a character under Qwen's tokenizer.
CHINESE = [
    (
        f"第{i}天：我今天去了公园散步，看到很多人在跳舞，天气很好，心情也很愉快。"
        "我的女儿小美在学钢琴，她每天练习一个小时，老师说她进步很快，我很骄傲。" * 3,
        "听起来真不错！坚持练习很重要，祝她继续进步，也希望你每天都有好心情。" * 3,
    )
    for i in range(consolidate.PAGES_PER_CALL)
]


class CharTokens(ScriptedLLM):
    """A scripted model whose tokenizer counts one token per character (like CJK text)."""

    def count_tokens(self, text: str) -> int:
        return len(text)


def reply(messages: list[Message]) -> str:
    return json.dumps({"user_facts": [], "assistant_facts": [], "profile": [], "summary": "x"})


@pytest.mark.parametrize("context", [4096, 8192])
def test_every_analysis_prompt_fits_the_context_with_its_reply(home: Path, context: int) -> None:
    llm = CharTokens(default=reply, context_size=context)
    with Memoryos("alice", "assistant", home, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.add_memories([{"user_input": u, "agent_response": a, "timestamp": T0 + i * 60}
                          for i, (u, a) in enumerate(CHINESE)])  # fmt: skip
        mem.end_session()
        mem.consolidate()
        calls = [c for c in llm.calls if c["kind"] == "complete"]
        assert len(calls) > 1  # one call's worth by count, several by tokens
        for call in calls:
            used = message_tokens(call["messages"], llm.count_tokens)
            assert used + consolidate.ANALYSIS_MAX_TOKENS <= context, used
        # every page analysed, none of them in a failed job
        assert all(p.analyzed for p in mem.pages())
        assert mem.pending_jobs() == 0 and "failed" not in mem.stats()["jobs"]
