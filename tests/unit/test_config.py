"""Settings resolve in one order: defaults < config.toml < env < overrides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_support import fast_env, open_mem, run

from memoryos_cli.config import MACHINE_LOCAL, load_settings, write_config_value
from memoryos_cli.errors import InvalidInputError


def test_resolution_order(home, monkeypatch) -> None:
    s = load_settings()
    assert s.home == home and s.short_term_capacity == 7
    write_config_value(s, "short_term_capacity", "9")
    assert load_settings().short_term_capacity == 9
    assert oct((home / "config.toml").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("MEMORYOS_SHORT_TERM_CAPACITY", "11")
    assert load_settings().short_term_capacity == 11
    assert load_settings(short_term_capacity=5).short_term_capacity == 5


def test_bad_values_are_clear_errors(home) -> None:
    with pytest.raises(InvalidInputError, match="short_term_capacity"):
        load_settings(short_term_capacity="many")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[memoryos]\nbogus = 1\n")
    with pytest.raises(InvalidInputError, match="unknown setting"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        # each broke the memory later, far from where it was set
        ("short_term_capacity", "0", "out of range"),
        ("short_term_capacity", "99999999999999999999", "out of range"),
        ("max_input_chars", "0", "out of range"),
        ("heat_alpha", "inf", "out of range"),
        ("heat_alpha", "nan", "out of range"),
        ("heat_alpha", "-1", "out of range"),
        ("answer_temperature", "5", "out of range"),
        ("segment_similarity_threshold", "2", "out of range"),
        ("llama_repack", "maybe", "not a valid bool"),
        ("user_id", " ", "cannot be empty"),
    ],
)
def test_a_value_the_memory_cannot_work_with_is_refused_where_it_is_given(
    home, monkeypatch, name: str, value: str, says: str
) -> None:
    with pytest.raises(InvalidInputError, match=says):
        write_config_value(load_settings(), name, value)
    monkeypatch.setenv(f"MEMORYOS_{name.upper()}", value)
    with pytest.raises(InvalidInputError, match=says):
        load_settings()
    assert not (home / "config.toml").exists()


def test_yes_and_no_are_the_only_booleans(home) -> None:
    for word, meant in [("on", True), ("Yes", True), ("off", False), ("0", False)]:
        assert load_settings(llama_repack=word).llama_repack is meant


def test_config_set_refuses_a_model_that_is_not_there(home, monkeypatch) -> None:
    env = fast_env(monkeypatch)
    for name, value, says in [
        ("model", "qwen-typo", "no model named 'qwen-typo'"),
        ("model", "/nowhere/model.gguf", "no model file at /nowhere/model.gguf"),
        ("embedder", "nonexistent", "no embedder named 'nonexistent'"),
        ("reranker", "bge-small-en-v1.5", "no reranker named 'bge-small-en-v1.5'"),
    ]:
        result = run(env, "config", "set", name, value, ok=False)
        assert says in str(result.exception)
    assert not (home / "config.toml").exists()
    for name, value in [("model", "none"), ("reranker", "none"), ("seed", "-1")]:
        run(env, "config", "set", name, value)  # "-1" is a value, not an option
    assert (load_settings().reranker, load_settings().seed) == ("none", -1)


def test_config_set_keeps_the_file_loadable_whatever_the_value(home, monkeypatch) -> None:
    env = fast_env(monkeypatch)
    value = 'line one\nline "two" with a \\ backslash\tand a tab'
    run(env, "config", "set", "assistant_id", value)
    assert load_settings().assistant_id == value
    run(env, "config", "set", "short_term_capacity", "9")
    assert load_settings().assistant_id == value and load_settings().short_term_capacity == 9


def test_every_memoryos_variable_resolves_through_settings(home, monkeypatch) -> None:
    assert load_settings().models_dir == home / "models"
    home.mkdir(parents=True)
    (home / "config.toml").write_text('[memoryos]\nmodels_dir = "gguf"\nembed_threads = 2\n')
    assert load_settings().models_dir == home / "gguf"  # relative to home
    assert load_settings().embed_threads == 2
    monkeypatch.setenv("MEMORYOS_MODELS_DIR", "/srv/models")
    monkeypatch.setenv("MEMORYOS_EMBED_THREADS", "3")
    monkeypatch.setenv("MEMORYOS_LLAMA_REPACK", "1")
    monkeypatch.setenv("MEMORYOS_PIP_ARGS", "--no-index --find-links /wheels")
    s = load_settings()
    assert (s.models_dir, s.embed_threads, s.llama_repack) == (Path("/srv/models"), 3, True)
    assert s.pip_args == "--no-index --find-links /wheels"
    assert load_settings(embed_threads=4, llama_repack=False).embed_threads == 4


def test_only_config_reads_memoryos_variables() -> None:
    """One resolution order in one place: nothing else reads MEMORYOS_* on its own."""
    package = Path(__file__).parents[2] / "memoryos_cli"
    read = re.compile(r"""(environ\.get\(|environ\[|getenv\()\s*f?["']MEMORYOS_""")
    readers = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if read.search(path.read_text(encoding="utf-8"))
    }
    # cli/app.py: MEMORYOS_DEBUG decides how to report an error in loading the settings
    assert readers <= {"config.py", "cli/app.py"}


def test_an_export_carries_no_paths_or_pip_arguments_of_this_machine(home, monkeypatch) -> None:
    from memoryos_cli.memory import portable

    monkeypatch.setenv("MEMORYOS_PIP_ARGS", "--index-url https://me:secret@example.org")
    monkeypatch.setenv("MEMORYOS_MODELS_DIR", "/srv/private-models")
    with open_mem(home) as mem:
        data = portable.export_data(mem.scope)
    assert set(data["settings"]) & MACHINE_LOCAL == set()
    assert "secret" not in portable.to_json(data) and "private-models" not in portable.to_json(data)


@pytest.mark.parametrize("how", ["MEMORYOS_HOME", "--home"])
@pytest.mark.parametrize(
    ("models_dir", "expected"),
    [(None, "data/models"), ("gguf", "data/gguf"), ("/srv/models", "/srv/models")],
    ids=["default", "relative", "absolute"],
)
def test_a_relative_home_resolves_once(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    how: str, models_dir: str | None, expected: str,
) -> None:  # fmt: skip
    """`--home data` or MEMORYOS_HOME=data, from the folder it is in: every path is under
    that folder, however often the settings are copied (the MCP server replaces the model)."""
    import dataclasses

    env = fast_env(monkeypatch)
    monkeypatch.chdir(tmp_path)
    if how == "MEMORYOS_HOME":
        monkeypatch.setenv("MEMORYOS_HOME", "data")
    else:
        env.home = Path("data")
    if models_dir is not None:
        out = run(env, "config", "set", "models_dir", models_dir).output
        assert out == f"models_dir = {tmp_path / expected} (in {tmp_path / 'data/config.toml'})\n"
    shown = json.loads(run(env, "config", "show", "--json").output)
    assert (shown["home"], shown["models_dir"]) == (
        str(tmp_path / "data"),
        str(tmp_path / expected),
    )
    settings = env.settings()
    copied = dataclasses.replace(dataclasses.replace(settings, model="none"), seed=1)
    assert (copied.home, copied.models_dir) == (tmp_path / "data", tmp_path / expected)


def test_an_empty_reranker_is_the_default_one(home) -> None:
    """As for the embedder, "" means the default (it named no reranker and broke recall)."""
    from memoryos_cli.embed.load import DEFAULT_RERANKER, reranker_for

    judge = reranker_for(load_settings(reranker=""))
    assert judge is not None and judge.name == DEFAULT_RERANKER
    assert reranker_for(load_settings(reranker="none")) is None


def test_config_set_says_what_the_file_holds_and_what_a_variable_overrides(
    home, monkeypatch
) -> None:
    """With MEMORYOS_SHORT_TERM_CAPACITY=3, `config set short_term_capacity 9` printed
    "short_term_capacity = 3 (in .../config.toml)", where the file held 9."""
    env = fast_env(monkeypatch)
    monkeypatch.setenv("MEMORYOS_SHORT_TERM_CAPACITY", "3")
    lines = run(env, "config", "set", "short_term_capacity", "9").output.splitlines()
    assert lines[0] == f"short_term_capacity = 9 (in {home / 'config.toml'})"
    assert lines[1] == "MEMORYOS_SHORT_TERM_CAPACITY is set, so short_term_capacity = 3 while it is"
    monkeypatch.setenv("MEMORYOS_SHORT_TERM_CAPACITY", "abc")
    with pytest.raises(InvalidInputError, match="^MEMORYOS_SHORT_TERM_CAPACITY: setting"):
        load_settings()


def test_config_unset_takes_one_setting_out_of_the_file(home, monkeypatch) -> None:
    """There was no way back to a default but editing config.toml by hand."""
    env = fast_env(monkeypatch)
    run(env, "config", "set", "short_term_capacity", "12")
    run(env, "config", "set", "timezone", "Europe/Oslo")
    said = run(env, "config", "unset", "short_term_capacity").output.strip()
    assert said == (
        f"short_term_capacity removed from {home / 'config.toml'}; short_term_capacity = 7"
        " (default)"
    )
    assert load_settings().short_term_capacity == 7
    assert load_settings().timezone == "Europe/Oslo"  # the other setting stays
    assert "was not set in" in run(env, "config", "unset", "short_term_capacity").output
    monkeypatch.setenv("MEMORYOS_TIMEZONE", "UTC")
    assert (
        run(env, "config", "unset", "timezone")
        .output.strip()
        .endswith("timezone = UTC (MEMORYOS_TIMEZONE)")
    )
    assert "timezone" not in (home / "config.toml").read_text()
    refused = run(env, "config", "unset", "nosuch", ok=False).exception
    assert isinstance(refused, InvalidInputError) and "unknown setting" in str(refused)


def test_a_config_others_can_read_is_made_private(home) -> None:
    """Its model paths and time zone are the user's; `doctor` found a 644 file, nothing
    fixed it."""
    from memoryos_cli.files import MadePrivateWarning

    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[memoryos]\ntimezone = "Europe/Oslo"\n')
    (home / "config.toml").chmod(0o644)
    with pytest.warns(MadePrivateWarning, match="was 644"):
        assert load_settings().timezone == "Europe/Oslo"
    assert (home / "config.toml").stat().st_mode & 0o777 == 0o600
