"""Train the crisis detector's statistical second opinion on the dev part only, choose its
thresholds by cross-validation, and write locales/crisis/model.json.

    python bench/crisis_model_train.py            # cross-validate, print figures, write
    python bench/crisis_model_train.py --dry-run  # cross-validate and print only

Needs scikit-learn (a dev dependency: the bot itself only reads the JSON). Features and
windows are bot.content.crisis_model's own, so the scorer sees what training saw.

The phrase lists answer whatever the model says (a listed phrase alone means a crisis), so
the model learns on, and only ever decides, the dev messages the lists leave alone. Two
heads share the features: ``crisis`` (crisis against ordinary) and ``others`` (danger from
someone against danger to oneself, crisis messages without sextortion, which either
answer suits).

The thresholds: 5-fold cross-validation (stratified by language and label, fixed seed)
gives each message a probability from a model that never saw it. The crisis threshold is
the lowest at which the model raises at most ``MODEL_FALSE_ALARMS`` of the ordinary
messages the lists leave alone; the others threshold, the lowest at which at most
``WRONG_TIER`` of the danger-to-oneself messages would get the answer to danger from
someone, which lacks 3114. The held-out parts are never read. The lists were first written
on dev's earliest rounds: their own figures there are in-sample, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crisis_eval import EXPECTED_TIER, Example, load
from bot.config import PROJECT_ROOT
from bot.content.crisis_lists import load_crisis_words
from bot.content.crisis_model import FORMAT, WINDOW, features, load_model
from bot.content.crisis_text import normalise
from bot.domain.crisis import Tier

OUT = PROJECT_ROOT / "locales" / "crisis" / "model.json"
MODEL_FALSE_ALARMS = 0.025
WRONG_TIER = 0.02
OTHERS_C = 16.0
FOLDS = 5
SEED = 17
C_GRID = (16.0, 64.0)  # inverse regularisation, chosen by cross-validated recall
MIN_DF = 3  # a feature seen in one or two messages is theirs, not a pattern (and 1/3 fewer weights)
CHECKS = 8


class Vectoriser:
    def __init__(self, texts: Sequence[str]) -> None:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(features(text)))
        grams = sorted(f for f, n in df.items() if n >= MIN_DF)
        self.vocab = {f: i for i, f in enumerate(grams)}

    def matrix(self, texts: Sequence[str]) -> csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts = Counter(features(text))
            scale = 1.0 / math.sqrt(sum(counts.values())) if counts else 0.0
            for f, n in counts.items():
                if f in self.vocab:
                    rows.append(r)
                    cols.append(self.vocab[f])
                    vals.append(n * scale)
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)))


def windows(spaced: str) -> list[str]:
    """The folded message cut as bot.content.crisis_model reads it."""
    words = spaced.split()
    step, out = WINDOW // 2, []
    for start in range(0, max(len(words) - WINDOW, 0) + step, step):
        end = min(start + WINDOW, len(words))
        out.append(" ".join(words[start:end]))
        if end == len(words):
            break
    return out


def classifier(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)


def out_of_fold(texts: list[str], labels: np.ndarray, strata: list[str], c: float) -> np.ndarray:
    probs = np.zeros(len(texts))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    for train, test in folds.split(texts, strata):
        vec = Vectoriser([texts[i] for i in train])
        clf = classifier(c).fit(vec.matrix([texts[i] for i in train]), labels[train])
        probs[test] = clf.predict_proba(vec.matrix([texts[i] for i in test]))[:, 1]
    return probs


def lowest_threshold(negatives: np.ndarray, budget: float) -> float:
    """The lowest threshold that at most ``budget`` of ``negatives`` reach."""
    ranked = np.sort(negatives)[::-1]
    allowed = math.floor(budget * len(ranked))
    if allowed <= 0:
        return float(np.nextafter(ranked[0], 1.0))
    return float((ranked[allowed - 1] + ranked[allowed]) / 2)


def reading(
    vec: Vectoriser, crisis: LogisticRegression, others: LogisticRegression, spaced: str
) -> tuple[float, float]:
    """Both heads in the window the crisis head finds most likely, as the scorer reads."""
    matrix = vec.matrix(windows(spaced))
    probs = crisis.predict_proba(matrix)[:, 1]
    best = int(np.argmax(probs))
    return float(probs[best]), float(others.predict_proba(matrix[best])[0, 1])


def rate(hits: np.ndarray, mask: np.ndarray) -> str:
    return f"{hits[mask].mean():6.1%} ({int(hits[mask].sum())}/{int(mask.sum())})"


def report(
    examples: list[Example], labels: np.ndarray, rules: np.ndarray, model: np.ndarray
) -> None:
    either = rules | model
    crisis, ordinary = labels == 1, labels == 0
    print(f"{'':<16}{'recall':>18}{'false alarms':>18}")
    for name, hits in (("lists alone*", rules), ("model alone", model), ("lists OR model", either)):
        print(f"{name:<16}{rate(hits, crisis):>18}{rate(hits, ordinary):>18}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[ex.lang].append(i)
        groups[ex.category].append(i)
    print(f"\n{'lists OR model':<16}{'answered':>18}")
    for name, idx in groups.items():
        mask = np.zeros(len(examples), bool)
        mask[idx] = True
        print(f"{name:<16}{rate(either, mask & crisis if crisis[idx].any() else mask):>18}")
    print("* the lists were first written on dev's earliest rounds: in-sample there")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print figures, write nothing")
    args = parser.parse_args()
    examples = load("dev")
    lists = load_crisis_words(PROJECT_ROOT / "locales" / "crisis", model=False)
    rules = np.array([lists.detect(ex.text) is not None for ex in examples])
    rest = np.flatnonzero(~rules)  # what the model learns on and decides
    texts = [normalise(examples[i].text) for i in rest]
    labels = np.array([int(ex.crisis) for ex in examples])
    strata = [f"{examples[i].lang}-{examples[i].crisis}" for i in rest]
    best: tuple[float, float, float, np.ndarray] | None = None
    for c in C_GRID:
        probs = np.zeros(len(examples))
        probs[rest] = out_of_fold(texts, labels[rest], strata, c)
        threshold = lowest_threshold(probs[rest][labels[rest] == 0], MODEL_FALSE_ALARMS)
        recall = float(((probs >= threshold) | rules)[labels == 1].mean())
        print(f"C={c:<5} threshold {threshold:.3f}  lists OR model recall {recall:.1%}")
        if best is None or recall > best[0]:
            best = (recall, c, threshold, probs)
    assert best is not None
    _, c, threshold, probs = best
    print(f"\n== dev, {FOLDS}-fold cross-validated (C={c}, threshold {threshold:.3f})")
    report(examples, labels, rules, probs >= threshold)

    # The tier head: danger from someone (1) against danger to oneself (0), on every
    # crisis message, so it learns from the lists' finds too.
    tiered = [i for i, ex in enumerate(examples) if ex.crisis and ex.category != "sextortion"]
    tier_texts = [normalise(examples[i].text) for i in tiered]
    others = np.array([int(EXPECTED_TIER[examples[i].category] is Tier.OTHERS) for i in tiered])
    tier_strata = [f"{examples[i].lang}-{o}" for i, o in zip(tiered, others, strict=True)]
    tier_probs = out_of_fold(tier_texts, others, tier_strata, OTHERS_C)
    others_threshold = lowest_threshold(tier_probs[others == 0], WRONG_TIER)
    said_others = tier_probs >= others_threshold
    print(
        f"\nothers head (C={OTHERS_C}, threshold {others_threshold:.3f}), cross-validated: "
        f"danger from someone told {said_others[others == 1].mean():.1%}, "
        f"danger to oneself told as from someone {said_others[others == 0].mean():.1%}"
    )
    if args.dry_run:
        return
    vec = Vectoriser(texts + tier_texts)
    crisis_clf = classifier(c).fit(vec.matrix(texts), labels[rest])
    others_clf = classifier(OTHERS_C).fit(vec.matrix(tier_texts), others)
    names = sorted(vec.vocab, key=vec.vocab.__getitem__)

    def pair(column: int) -> list[float]:
        return [
            float(f"{crisis_clf.coef_[0][column]:.7g}"),
            float(f"{others_clf.coef_[0][column]:.7g}"),
        ]

    picks = [examples[i].text for i in rest[np.linspace(0, len(rest) - 1, CHECKS).astype(int)]]
    picks.append(" ".join(examples[i].text for i in rest[::40]))  # longer than a window
    checks = []
    for text in picks:
        probability, others_probability = reading(vec, crisis_clf, others_clf, normalise(text))
        checks.append({"text": text, "probability": probability, "others": others_probability})
    doc = {
        "format": FORMAT,
        "about": "crisis detector's second opinion; written by bench/crisis_model_train.py "
        f"from tests/data/crisis/dev only; C={c}, {FOLDS}-fold thresholds",
        "bias": [float(crisis_clf.intercept_[0]), float(others_clf.intercept_[0])],
        "threshold": round(threshold, 6),
        "others_threshold": round(others_threshold, 6),
        "checks": checks,
        "weights": {f: pair(i) for i, f in enumerate(names)},
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    load_model(OUT)  # refuses the file if the scorer does not reproduce training
    print(
        f"\nwrote {OUT.relative_to(PROJECT_ROOT)}: {len(names)} weights, "
        f"{OUT.stat().st_size // 1024} KB"
    )


if __name__ == "__main__":
    main()
