"""A statistical second opinion for the crisis detector: logistic regression over the
character n-grams of each folded word and over word pairs, with a second head that tells
danger from someone apart from danger to oneself.

The phrase lists (``bot.content.crisis``) miss phrasings nobody wrote down; this model,
trained by ``bench/crisis_model_train.py`` on the messages of ``tests/data/crisis/dev/``
that the lists leave alone, answers for those. Its weights ship in
``locales/crisis/model.json``; scoring is plain Python (a dict look-up per n-gram, each
word's sum remembered), nothing is downloaded or imported at run time. The file also
carries a few messages with the probabilities training gave them: the loader recomputes
them and refuses a file that does not reproduce them.

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
WINDOW = 24  # words; 99 % of dev messages are shorter
FORMAT = 2  # weights are [crisis, others] pairs
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
    others: float  # the tier head's probability that the danger comes from someone


@dataclass(frozen=True)
class Reading:
    """What the model makes of a message: whether it speaks of a crisis and, if so, how
    likely the danger comes from someone else rather than from oneself."""

    probability: float
    others: float


class CrisisModel:
    """Two heads over the same features, learned on dev: ``crisis`` (any words of crisis
    against ordinary messages) and ``others`` (danger from someone against danger to
    oneself, learned on crisis messages only), each weight a pair."""

    def __init__(
        self,
        weights: dict[str, tuple[float, float]],
        bias: tuple[float, float],
        threshold: float,
        others_threshold: float,
        checks: tuple[Check, ...],
    ) -> None:
        self.weights = weights
        self.bias = bias
        self.threshold = threshold
        self.others_threshold = others_threshold
        self.checks = checks
        self._words: dict[str, tuple[float, float, int]] = {}
        self._joins: dict[tuple[str, str], tuple[float, float, int]] = {}

    def _sum(self, grams: list[str]) -> tuple[float, float, int]:
        get, zero = self.weights.get, (0.0, 0.0)
        pairs = [get(g, zero) for g in grams]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs), len(grams)

    def _word(self, word: str) -> tuple[float, float, int]:
        known = self._words.get(word)
        if known is None:
            known = self._sum(word_grams(word))
            if len(self._words) < _CACHE_LIMIT:
                self._words[word] = known
        return known

    def _join(self, first: str, second: str) -> tuple[float, float, int]:
        key = (first[-4:], second[:4])
        known = self._joins.get(key)
        if known is None:
            known = self._sum(boundary_grams(*key))
            if len(self._joins) < _CACHE_LIMIT:
                self._joins[key] = known
        return known

    def read(self, spaced: str) -> Reading:
        """Both heads on the folded message, in its window most likely to be a crisis."""
        bias = self.bias  # (crisis, others)
        words = spaced.split()
        if not words:
            return Reading(_sigmoid(bias[0]), _sigmoid(bias[1]))
        parts = [self._word(w) for w in words]
        joins = [self._join(a, b) for a, b in pairwise(words)]
        best, best_others = -math.inf, 0.0
        step = WINDOW // 2
        for start in range(0, max(len(words) - WINDOW, 0) + step, step):
            end = min(start + WINDOW, len(words))
            inside = parts[start:end] + joins[start : end - 1]
            scale = math.sqrt(sum(p[2] for p in inside))
            crisis = sum(p[0] for p in inside) / scale
            if crisis > best:
                best, best_others = crisis, sum(p[1] for p in inside) / scale
            if end == len(words):
                break
        return Reading(_sigmoid(bias[0] + best), _sigmoid(bias[1] + best_others))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _pair(value: Any) -> tuple[float, float] | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    ):
        return float(value[0]), float(value[1])
    return None


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
    raw_weights = doc.get("weights")
    if not isinstance(raw_weights, dict) or not raw_weights:
        raise refuse("'weights' must be a non-empty object of n-gram: [crisis, others]")
    weights: dict[str, tuple[float, float]] = {}
    for gram, value in raw_weights.items():
        if (pair := _pair(value)) is None:
            raise refuse("every weight must be a pair of finite numbers")
        weights[str(gram)] = pair
    if (bias := _pair(doc.get("bias"))) is None:
        raise refuse("'bias' must be a pair of finite numbers")

    def probability(key: str) -> float:
        value = doc.get(key)
        if not isinstance(value, int | float) or not 0.0 < value < 1.0:
            raise refuse(f"'{key}' must be a probability between 0 and 1")
        return float(value)

    threshold, others_threshold = probability("threshold"), probability("others_threshold")
    raw_checks = doc.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        raise refuse("'checks' must list messages with the probabilities training gave them")
    try:
        checks = tuple(
            Check(str(c["text"]), float(c["probability"]), float(c["others"])) for c in raw_checks
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise refuse(f"a check is not {{text, probability, others}}: {exc}") from exc
    model = CrisisModel(weights, bias, threshold, others_threshold, checks)
    for check in checks:
        got = model.read(normalise(check.text))
        for head, trained, now in (
            ("crisis", check.probability, got.probability),
            ("others", check.others, got.others),
        ):
            if abs(now - trained) > CHECK_TOLERANCE:
                raise refuse(
                    f"{head} head gives {now:.4f} where training gave {trained:.4f} "
                    f"for {check.text!r}: weights damaged or scorer changed; retrain"
                )
    return model
