"""Charts of bench reports (matplotlib, the optional `bench` extra), written as PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memoryos_cli.errors import InvalidInputError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise InvalidInputError("plots need matplotlib: pip install 'memoryos-cli[bench]'") from exc
    return plt


def recall_plot(report: dict[str, Any], path: Path | str) -> Path:
    """Recall@k by method: one line per method over the k the report scored."""
    plt = _pyplot()
    methods = report["methods"]
    ks = sorted(
        {int(key.split("@")[1]) for m in methods.values() for key in m if key.startswith("recall@")}
    )
    fig, ax = plt.subplots(figsize=(8.5, 4.5), dpi=120)
    for name, entry in methods.items():
        values = [entry.get(f"recall@{k}") for k in ks]
        if all(v is None for v in values):
            continue
        ax.plot(ks, [v or 0.0 for v in values], marker="o", label=name)
    ax.set_xticks(ks)
    ax.set_xlabel("k (pages recalled)")
    ax.set_ylabel("evidence recall@k")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"LoCoMo {report['mode']}: {report['questions']} questions, {report['pages']} pages"
    )
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def f1_tokens_plot(report: dict[str, Any], path: Path | str) -> Path:
    """Answer F1 against recalled tokens per answer: one point per method."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 4.5), dpi=120)
    for name, entry in report["methods"].items():
        x, y = entry.get("recalled_tokens_per_answer") or 0.0, 100 * (entry.get("f1") or 0.0)
        # A legend, not labels by the points: methods with close scores overlap.
        ax.scatter([x], [y], s=60, label=f"{name} ({y:.1f} F1, {x:.0f} tokens)")
    ax.set_xlabel("recalled tokens per answer")
    ax.set_ylabel("answer F1")
    ax.grid(alpha=0.3)
    ax.set_title(f"LoCoMo answers through the chat prompt: {report['questions']} questions")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
