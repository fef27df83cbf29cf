"""Real llama.cpp (SmolLM2-135M): streaming, JSON, KV-cache reuse, cancel, CLI errors, e2e."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from memoryos_cli import catalog
from memoryos_cli.api import Memoryos
from memoryos_cli.cli.app import main
from memoryos_cli.config import load_settings
from memoryos_cli.embed.hashing import HashingEmbedder
from memoryos_cli.errors import ModelError
from memoryos_cli.llm import LLM
from memoryos_cli.llm.llama import FENCES, LlamaCppLLM
from memoryos_cli.llm.loader import load_llm
from memoryos_cli.llm.loops import MIN_WORDS, said_as_a_line
from memoryos_cli.memory.records import ProfileItem
from memoryos_cli.memory.ruled_out import ruled_out

PREFIX = [
    {
        "role": "system",
        "content": "You are a friendly assistant. Answer in one short sentence. " * 8,
    },
    {"role": "user", "content": "My name is Alice and I live in Paris."},
    {"role": "assistant", "content": "Nice to meet you, Alice!"},
]


@pytest.fixture(scope="module")
def smol(smol_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> LlamaCppLLM:
    """One loaded model for the module (loading is the slow part)."""
    return LlamaCppLLM(smol_model_path, load_settings(tmp_path_factory.mktemp("home")))


def ask(llm: LlamaCppLLM, messages: list[dict[str, str]], max_tokens: int = 24) -> str:
    return "".join(llm.stream(messages, max_tokens=max_tokens, temperature=0.0))


def test_implements_the_protocol_and_streams_pieces(smol: LlamaCppLLM) -> None:
    assert isinstance(smol, LLM)
    pieces = list(
        smol.stream(PREFIX + [{"role": "user", "content": "Where do I live?"}], max_tokens=24)
    )
    assert len(pieces) > 1 and "".join(pieces).strip()
    stats = smol.last_stats
    assert stats.completion_tokens > 1 and stats.prompt_tokens > 50
    assert 0 < stats.seconds_to_first_token <= stats.seconds_total
    assert smol.count_tokens("hello world") >= 2


def test_json_schema_constrains_the_reply(smol: LlamaCppLLM) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 20},
            "likes_tea": {"type": "boolean"},
        },
        "required": ["city", "likes_tea"],
    }
    raw = smol.complete(
        [{"role": "user", "content": "I love green tea and I live in Paris. Reply in JSON."}],
        max_tokens=60,
        temperature=0.0,
        json_schema=schema,
    )
    data = json.loads(raw)
    assert set(data) == {"city", "likes_tea"}
    assert isinstance(data["city"], str) and len(data["city"]) <= 20
    assert isinstance(data["likes_tea"], bool)


def test_a_shared_prefix_is_not_evaluated_again(smol: LlamaCppLLM) -> None:
    smol.warm([{"role": "user", "content": "unrelated " * 30}])  # start from another prompt
    ask(smol, PREFIX + [{"role": "user", "content": "What is my name?"}])
    first = smol.last_stats
    assert first.prompt_tokens_evaluated > first.prompt_tokens - 10  # little reusable
    follow_up = PREFIX + [
        {"role": "user", "content": "What is my name?"},
        {"role": "assistant", "content": "Alice."},
        {"role": "user", "content": "And my city?"},
    ]
    ask(smol, follow_up)
    second = smol.last_stats
    assert second.prompt_tokens > first.prompt_tokens
    assert second.prompt_tokens_evaluated < first.prompt_tokens_evaluated / 2


def test_warm_makes_the_next_call_cheap(smol: LlamaCppLLM) -> None:
    smol.warm([{"role": "user", "content": "unrelated " * 30}])
    smol.warm(PREFIX)
    assert smol.last_stats.prompt_tokens_evaluated > 50
    ask(smol, PREFIX + [{"role": "user", "content": "Say hello."}])
    assert smol.last_stats.prompt_tokens_evaluated < 20


def test_cancel_stops_between_tokens(smol: LlamaCppLLM) -> None:
    got = []
    for piece in smol.stream(
        PREFIX + [{"role": "user", "content": "Count to fifty."}], max_tokens=120
    ):
        got.append(piece)
        if len(got) == 3:
            smol.cancel()
    assert len(got) == 3
    assert ask(smol, PREFIX + [{"role": "user", "content": "Hi"}])  # the next call runs again


def hashed_paths(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files catalog hashes from now on, in order."""
    paths: list[Path] = []
    real = catalog.sha256_file

    def spy(path: Path, progress: catalog.Progress | None = None) -> str:
        paths.append(path)
        return real(path, progress)

    monkeypatch.setattr(catalog, "sha256_file", spy)
    return paths


def test_load_by_catalogue_name_verifies_the_wheel_file(
    home: Path, smol_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed = hashed_paths(monkeypatch)
    settings = load_settings(home)
    llm = load_llm("smollm2-135m", settings)
    assert llm.name == "smollm2-135m"
    assert hashed == [smol_model_path]  # a fresh home has no cached hash: the file was read
    listed = {m.name: m for m in catalog.list_models(settings)}["smollm2-135m"]
    assert listed.verified is True and listed.verified_at is not None
    catalog.resolve("smollm2-135m", settings)
    assert hashed == [smol_model_path]  # the second time, the cached hash of the same file


def test_a_corrupt_copy_of_the_wheel_file_is_refused_before_loading(
    home: Path, smol_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wheel's file has no pinned size: only its sha256 tells a damaged copy (one byte
    flipped near the end still has the GGUF magic and loads)."""
    copy = tmp_path / smol_model_path.name
    body = bytearray(smol_model_path.read_bytes())
    body[-1] ^= 0xFF
    copy.write_bytes(bytes(body))
    monkeypatch.setattr(catalog, "locate_packaged_file", lambda relpath: copy)
    hashed = hashed_paths(monkeypatch)
    with pytest.raises(ModelError, match=r"is corrupt \(sha256 .*run `memoryos models install"):
        load_llm("smollm2-135m", load_settings(home))
    assert hashed == [copy]


def test_get_response_end_to_end(home: Path, smol_model_path: Path) -> None:
    with Memoryos(
        "alice", "assistant", home, llm_model=str(smol_model_path), embedder=HashingEmbedder()
    ) as mem:
        answer = mem.get_response("Hello! My favourite colour is green.")
        assert answer
        assert [p.agent_response for p in mem.short_term()][-1] == answer


def test_an_answer_that_starts_over_is_stopped_and_the_model_answers_again(
    home: Path, smol_model_path: Path
) -> None:
    """SmolLM2 at temperature 0 wrote "- 4. Baked Bran with Roasted Garlic and Chili" and
    the same line 20 times more, to the answer's 384 tokens (100 s on 2 busy cores)."""
    with Memoryos(
        "alice", "assistant", home, llm_model=str(smol_model_path), embedder=HashingEmbedder()
    ) as mem:
        answer = mem.get_response("List ten dinner ideas, one per line.")
        lines = [said_as_a_line(line) for line in answer.splitlines()]
        said = [line for line in lines if len(line.split()) >= MIN_WORDS]
        assert said and all(said.count(line) <= 2 for line in said), answer
        assert mem.get_response("Hello!")  # the stopped stream let the model go


def test_a_vegetarians_answer_names_no_meat_end_to_end(tmp_path: Path, smol: LlamaCppLLM) -> None:
    """Through `get_response`, as the chat answers: the profile's diet keeps every food it
    rules out from the answer ("meat" itself is sayable: the message names it)."""
    asked = "Name five kinds of meat."
    answers = {}
    for diet in ("", "vegetarian"):
        with Memoryos(
            data_storage_path=tmp_path / (diet or "none"),
            llm_model=smol,
            embedder=HashingEmbedder(),
            max_answer_tokens=40,
        ) as mem:
            if diet:
                mem.set_profile("diet", diet)
            answers[diet] = mem.get_response(asked)
    foods = ruled_out([ProfileItem(1, "diet", "vegetarian", 1, [], 0.0, 0.0)]).foods
    said = re.compile(rf"\b(?:{'|'.join(foods)})s?\b", re.IGNORECASE)
    assert said.search(answers[""])  # what the model answers with no diet
    assert answers["vegetarian"].strip() and not said.search(answers["vegetarian"])


# -- the one-line errors a person sees, through the CLI -------------------------------


@pytest.fixture
def tiny_entry(monkeypatch: pytest.MonkeyPatch, smol_model_path: Path) -> bytes:
    """A catalogue entry `tiny` pinned to a small GGUF (a slice of the SmolLM2 file)."""
    body = smol_model_path.read_bytes()[:65536]
    entry = catalog.Entry(
        "tiny",
        "test",
        len(body),
        hashlib.sha256(body).hexdigest(),
        ("tiny-part1",),
        ("tiny_part1/data/part01.bin",),
    )
    monkeypatch.setitem(catalog.CATALOG, "tiny", entry)
    return body


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    code = info.value.code
    out = capsys.readouterr()
    return (code if isinstance(code, int) else 0), out.err.strip()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "error: model tiny is not installed; run `memoryos models install tiny`"),
        (
            lambda b: b[:1000],
            "is truncated (1,000 of 65,536 bytes); run `memoryos models install tiny`",
        ),
        (lambda b: b[:-1] + b"!", "is corrupt (sha256 "),
        (lambda b: b"GGML" + b[4:], "is not a GGUF model file (bad magic bytes)"),
    ],
    ids=["missing", "truncated", "wrong-hash", "not-gguf"],
)
def test_models_verify_failures_are_one_clear_line(
    tiny_entry: bytes,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    content,
    expected,  # type: ignore[no-untyped-def]
) -> None:
    if content is not None:
        target = load_settings(home).models_dir / "tiny.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content(tiny_entry))
    code, err = run_cli(["models", "verify", "tiny"], capsys)
    assert code == 4
    assert expected in err and "\n" not in err
    assert err.startswith("error: ")


def test_a_banned_word_is_not_written_in_any_spelling(smol: LlamaCppLLM) -> None:
    """Kept from its " chicken" token alone, SmolLM2 writes "Ch" + "icken": the ban follows
    the word being written, not one token."""
    asked = [{"role": "user", "content": "Write the word chicken five times."}]
    free = "".join(smol.stream(asked, max_tokens=24, temperature=0.0))
    assert "chicken" in free.lower()  # what the model writes when nothing is banned
    banned = "".join(smol.stream(asked, max_tokens=24, temperature=0.0, avoid=["chicken"]))
    assert banned.strip() and "chicken" not in banned.lower()


@pytest.mark.parametrize(
    ("asked", "word"),
    [
        ("Write the words peanut butter five times.", "peanut"),
        ("Write the word chicken five times.", "chicken"),
    ],
)
def test_a_word_heading_for_a_ban_is_taken_back_not_misspelled(
    smol: LlamaCppLLM, asked: str, word: str
) -> None:
    """Stopped mid-word, SmolLM2 misspells the word it is set on ("Peanestroffice.",
    "Chick-a-loose"): the word is taken back to where it began and written otherwise."""
    messages = [{"role": "user", "content": asked}]
    reply = "".join(smol.stream(messages, max_tokens=40, temperature=0.0, avoid=[word]))
    misspelt = [w for w in re.findall(r"[A-Za-z]+", reply) if w.lower().startswith(word[:4])]
    assert reply.strip() and not misspelt, reply
    assert smol.last_stats.words_taken_back >= 1


@pytest.mark.parametrize(
    ("asked", "word", "kept"),
    [
        ("Write the word meatless five times.", "meat", "meatless"),  # " meat" + "less"
        ("Write the words gluten-free five times.", "gluten", "gluten-free"),  # + "-" + "free"
    ],
)
def test_a_word_a_banned_one_begins_is_written(
    smol: LlamaCppLLM, asked: str, word: str, kept: str
) -> None:
    """A banned word is judged where it ends: "meatless" and "gluten-free" say what an
    answer leaves out, and banning " meat" up front kept them out too. The banned word
    alone, or joined to anything else ("gluten-containing"), still goes."""
    messages = [{"role": "user", "content": asked}]
    reply = "".join(smol.stream(messages, max_tokens=30, temperature=0.0, avoid=[word]))
    assert kept in reply.lower(), reply
    assert not re.search(rf"\b{word}(?!less|-free)", reply, re.IGNORECASE), reply


def test_an_answer_never_writes_the_fence_of_recalled_memories(smol: LlamaCppLLM) -> None:
    """Recalled memories sit between <<< and >>>; an answer that writes a fence has taken
    the prompt's layout for its own (Qwen 1.5B closed a memory block and asked a question of
    its own making). The fence is banned whole and in pieces ("<<" + "<")."""
    asked = [{"role": "user", "content": "Write the symbol >>> five times."}]
    free = smol._llama.create_chat_completion(messages=asked, max_tokens=30, temperature=0.0)
    assert any(f in free["choices"][0]["message"]["content"] for f in FENCES)  # unbanned
    reply = ask(smol, asked, max_tokens=30)
    assert reply.strip() and not any(f in reply for f in FENCES), reply
