"""Scores: answer F1 and BLEU-1 (as in the original MemoryOS LoCoMo eval), evidence
recall@k, the answer's words in what was recalled, a paired interval, and percentiles."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence

WORD = re.compile(r"\w+")


def answer_tokens(text: object) -> list[str]:
    """Lowercase \\w+ tokens of an answer (numbers and None become text first)."""
    return WORD.findall(("" if text is None else str(text)).lower())


def f1_score(prediction: object, reference: object) -> float:
    """Set-based token F1 between a predicted and a reference answer."""
    pred, ref = set(answer_tokens(prediction)), set(answer_tokens(reference))
    common = len(pred & ref)
    if not pred or not ref or not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def bleu1(prediction: object, reference: object) -> float:
    """BLEU-1: clipped unigram precision times the brevity penalty."""
    pred, ref = answer_tokens(prediction), answer_tokens(reference)
    if not pred or not ref:
        return 0.0
    ref_counts = Counter(ref)
    clipped = sum(min(n, ref_counts[w]) for w, n in Counter(pred).items())
    precision = clipped / len(pred)
    penalty = 1.0 if len(pred) > len(ref) else math.exp(1 - len(ref) / len(pred))
    return precision * penalty


def evidence_recall(evidence: Iterable[str], recalled: Sequence[Iterable[str]], k: int) -> float:
    """Share of the evidence turn ids found in the first `k` recalled pages."""
    wanted = set(evidence)
    if not wanted:
        return 0.0
    found: set[str] = set()
    for ids in recalled[:k]:
        found.update(ids)
    return len(wanted & found) / len(wanted)


def words_found(reference: object, text: str) -> float:
    """Share of the reference answer's words (as F1 counts them) that `text` holds: whether
    the memory given to the model held the answer, whatever the model then made of it."""
    wanted = set(answer_tokens(reference))
    return len(wanted & set(answer_tokens(text))) / len(wanted) if wanted else 0.0


def paired_interval(
    differences: Sequence[float], level: float = 0.95, draws: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """A bootstrap interval of the mean of per-question differences between two methods
    (same questions, resampled together): on 40 questions one changed answer moves F1 by
    up to 2.5 points, so a difference inside the interval is not told from chance."""
    if not differences:
        return 0.0, 0.0
    pick = random.Random(seed)
    n = len(differences)
    means = [sum(pick.choices(differences, k=n)) / n for _ in range(draws)]
    tail = 100 * (1 - level) / 2
    return percentile(means, tail), percentile(means, 100 - tail)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0
