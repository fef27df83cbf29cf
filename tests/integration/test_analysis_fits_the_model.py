"""Analysis batches sized with a real model's tokenizer: every call's prompt, as llama.cpp
counts it (chat template included), leaves room for the reply in the model's context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memoryos_cli.api import Memoryos
from memoryos_cli.config import load_settings
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.llm.llama import LlamaCppLLM
from memoryos_cli.memory import consolidate

pytestmark = pytest.mark.integration

EMPTY = json.dumps({"user_facts": [], "assistant_facts": [], "profile": [], "summary": "x"})
CHINESE = [
    {
        "user_input": f"第{i}天：我今天去了公园散步，看到很多人在跳舞，天气很好，心情也很愉快。"
        "我的女儿小美在学钢琴，她每天练习一个小时，老师说她进步很快，我很骄傲。" * 3,
        "agent_response": "听起来真不错！坚持练习很重要，祝她继续进步，也希望你每天都有好心情。"
        * 3,
        "timestamp": 1_683_561_600 + i * 60,
    }
    for i in range(consolidate.PAGES_PER_CALL)
]


def test_every_analysis_prompt_fits_under_the_real_tokenizer(
    home: Path, smol_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = LlamaCppLLM(smol_model_path, load_settings(home, context_tokens=4096))
    prompts: list[int] = []
    evaluate = llm.complete

    def measured(messages: list[Any], **_: Any) -> str:
        evaluate(messages, max_tokens=1, temperature=0.0)  # the real prompt, one token out
        prompts.append(llm.last_stats.prompt_tokens)
        return EMPTY

    monkeypatch.setattr(llm, "complete", measured)
    with Memoryos("alice", "assistant", home, llm_model=llm, embedder=HashingEmbedder()) as mem:
        mem.add_memories(CHINESE)
        mem.end_session()
        mem.consolidate()
        assert all(p.analyzed for p in mem.pages())
    assert len(prompts) > 1, prompts  # twelve pages are more than one call's worth here
    for tokens in prompts:
        assert tokens + consolidate.ANALYSIS_MAX_TOKENS <= llm.context_size, prompts
