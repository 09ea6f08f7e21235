"""A small statistical second opinion for the crisis detector: logistic regression over
the character n-grams of each folded word and over word pairs.

The phrase lists (``bot.content.crisis``) miss phrasings nobody wrote down; this model,
trained on ``tests/data/crisis/dev/`` by ``bench/crisis_model_train.py``, answers for
those. Its weights ship in ``locales/crisis/model.json``; scoring is plain Python (a dict
look-up per n-gram, each word's sum remembered), nothing is downloaded or imported at run
time. The file also carries a few messages with the probability training gave them: the
loader recomputes them and refuses a file that does not reproduce them.

Features of a message (as folded by ``normalise``): for each word, its character 2- to
5-grams with a space on either side (" mo", "mou", ..., "ir "), and the 3- to 5-grams
across the space between two neighbouring words ("ux mo"); each counted, divided by the
square root of the number of features. A long message is read in windows of ``WINDOW``
words (training messages are shorter), and its score is the highest window's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.content.crisis_text import normalise
from bot.errors import ConfigError, Problem, display_path

NGRAMS = (2, 3, 4, 5)
WINDOW = 16  # words; the longest dev message is 15
FORMAT = 1
CHECK_TOLERANCE = 1e-4  # weights are stored rounded to 7 significant digits
_CACHE_LIMIT = 50_000  # distinct words remembered


def word_grams(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + n] for n in NGRAMS for i in range(len(padded) - n + 1)]


def boundary_grams(first: str, second: str) -> list[str]:
    """The 3- to 5-grams across the space between two words ("x m", "ux mo"), marked "~"
    so none equals a gram inside a word; they depend on 4 letters either side only."""
    joined = f"{first[-4:]} {second[:4]}"
    space = min(len(first), 4)
    return [
        "~" + joined[i : i + n]
        for n in (3, 4, 5)
        for i in range(len(joined) - n + 1)
        if i < space < i + n - 1
    ]


def features(spaced: str) -> Iterator[str]:
    """Every feature of a folded message, repeated as often as it occurs (training's view)."""
    words = spaced.split()
    for i, word in enumerate(words):
        yield from word_grams(word)
        if i + 1 < len(words):
            yield from boundary_grams(word, words[i + 1])


@dataclass(frozen=True)
class Check:
    text: str
    probability: float


class CrisisModel:
    """Learned weights and the threshold chosen by cross-validation on dev."""

    def __init__(
        self, weights: dict[str, float], bias: float, threshold: float, checks: tuple[Check, ...]
    ) -> None:
        self.weights = weights
        self.bias = bias
        self.threshold = threshold
        self.checks = checks
        self._words: dict[str, tuple[float, int]] = {}
        self._joins: dict[tuple[str, str], tuple[float, int]] = {}

    def _sum(self, grams: list[str]) -> tuple[float, int]:
        get = self.weights.get
        return sum(get(g, 0.0) for g in grams), len(grams)

    def _word(self, word: str) -> tuple[float, int]:
        known = self._words.get(word)
        if known is None:
            known = self._sum(word_grams(word))
            if len(self._words) < _CACHE_LIMIT:
                self._words[word] = known
        return known

    def _join(self, first: str, second: str) -> tuple[float, int]:
        key = (first[-4:], second[:4])
        known = self._joins.get(key)
        if known is None:
            known = self._sum(boundary_grams(*key))
            if len(self._joins) < _CACHE_LIMIT:
                self._joins[key] = known
        return known

    def probability(self, spaced: str) -> float:
        """How likely the folded message speaks of a crisis (the highest window's)."""
        words = spaced.split()
        if not words:
            return _sigmoid(self.bias)
        sums, counts = zip(*map(self._word, words), strict=True)
        joins = [self._join(a, b) for a, b in pairwise(words)]
        join_sums = [j[0] for j in joins]
        join_counts = [j[1] for j in joins]
        best = -math.inf
        step = WINDOW // 2
        for start in range(0, max(len(words) - WINDOW, 0) + step, step):
            end = min(start + WINDOW, len(words))
            total = sum(sums[start:end]) + sum(join_sums[start : end - 1])
            count = sum(counts[start:end]) + sum(join_counts[start : end - 1])
            best = max(best, total / math.sqrt(count))
            if end == len(words):
                break
        return _sigmoid(self.bias + best)

    def flags(self, spaced: str) -> bool:
        return self.probability(spaced) >= self.threshold


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def load_model(path: Path) -> CrisisModel:
    """Read and validate ``path``; a ``ConfigError`` names the file and what is wrong."""
    name = display_path(path)

    def refuse(reason: str) -> ConfigError:
        return ConfigError([Problem(name, 1, f"crisis model: {reason}")])

    try:
        doc: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise refuse(
            f"cannot read it ({exc}); rebuild it: python bench/crisis_model_train.py"
        ) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise refuse(f"expected a JSON object with format {FORMAT}")
    weights, bias, threshold = doc.get("weights"), doc.get("bias"), doc.get("threshold")
    if not isinstance(weights, dict) or not weights:
        raise refuse("'weights' must be a non-empty object of n-gram: number")
    if not all(isinstance(w, int | float) and math.isfinite(w) for w in weights.values()):
        raise refuse("every weight must be a finite number")
    if not isinstance(bias, int | float) or not math.isfinite(bias):
        raise refuse("'bias' must be a finite number")
    if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
        raise refuse("'threshold' must be a probability between 0 and 1")
    raw_checks = doc.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        raise refuse("'checks' must list messages with the probability training gave them")
    try:
        checks = tuple(Check(str(c["text"]), float(c["probability"])) for c in raw_checks)
    except (KeyError, TypeError, ValueError) as exc:
        raise refuse(f"a check is not {{text, probability}}: {exc}") from exc
    model = CrisisModel(
        {str(k): float(v) for k, v in weights.items()}, float(bias), float(threshold), checks
    )
    for check in checks:
        got = model.probability(normalise(check.text))
        if abs(got - check.probability) > CHECK_TOLERANCE:
            raise refuse(
                f"gives {got:.4f} where training gave {check.probability:.4f} "
                f"for {check.text!r}: weights damaged or scorer changed; retrain"
            )
    return model
