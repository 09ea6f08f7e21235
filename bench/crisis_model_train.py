"""Train the crisis detector's statistical second opinion on the dev part only, choose its
threshold by cross-validation, and write locales/crisis/model.json.

    python bench/crisis_model_train.py            # cross-validate, print figures, write
    python bench/crisis_model_train.py --dry-run  # cross-validate and print only

Needs scikit-learn (a dev dependency: the bot itself only reads the JSON). Features and
windows are bot.content.crisis_model's own, so the scorer sees what training saw.

The threshold: 5-fold cross-validation (stratified by language and label, fixed seed) gives
each dev message a probability from a model that never saw it. The rules are OR-ed with the
model, so the threshold is the lowest at which the rules OR the model raise at most
``MAX_FALSE_ALARMS`` of dev's ordinary messages (the rules were written on dev, so their own
false alarms here are in-sample). The held-out part is never read.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crisis_eval import Example, load
from bot.config import PROJECT_ROOT
from bot.content.crisis_lists import load_crisis_words
from bot.content.crisis_model import FORMAT, WINDOW, features, load_model
from bot.content.crisis_text import normalise

OUT = PROJECT_ROOT / "locales" / "crisis" / "model.json"
MAX_FALSE_ALARMS = 0.03
FOLDS = 5
SEED = 17
C_GRID = (4.0, 16.0, 64.0)  # inverse regularisation, chosen by cross-validated recall
MIN_DF = 2  # a feature seen in one message only is that message's, not a pattern
CHECKS = 8


class Vectoriser:
    def __init__(self, texts: list[str]) -> None:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(features(text)))
        self.vocab = {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= MIN_DF))}

    def matrix(self, texts: list[str]) -> csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts = Counter(features(text))
            scale = 1.0 / math.sqrt(sum(counts.values()))
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


def fit(texts: list[str], labels: np.ndarray, c: float) -> tuple[Vectoriser, LogisticRegression]:
    vec = Vectoriser(texts)
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    clf.fit(vec.matrix(texts), labels)
    return vec, clf


def probability(vec: Vectoriser, clf: LogisticRegression, spaced: str) -> float:
    return float(clf.predict_proba(vec.matrix(windows(spaced)))[:, 1].max())


def out_of_fold(texts: list[str], labels: np.ndarray, strata: list[str], c: float) -> np.ndarray:
    probs = np.zeros(len(texts))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    for train, test in folds.split(texts, strata):
        vec, clf = fit([texts[i] for i in train], labels[train], c)
        probs[test] = clf.predict_proba(vec.matrix([texts[i] for i in test]))[:, 1]
    return probs


def threshold_for(probs: np.ndarray, labels: np.ndarray, rules: np.ndarray) -> float:
    """The lowest threshold at which rules OR model stay within the false-alarm budget."""
    ordinary = labels == 0
    allowed = math.floor(MAX_FALSE_ALARMS * ordinary.sum()) - int(rules[ordinary].sum())
    free = np.sort(probs[ordinary & ~rules])[::-1]  # ordinary messages the rules leave alone
    if allowed <= 0:
        return float(np.nextafter(free[0], 1.0))
    return float((free[allowed - 1] + free[allowed]) / 2)


def rate(hits: np.ndarray, mask: np.ndarray) -> str:
    return f"{hits[mask].mean():6.1%} ({int(hits[mask].sum())}/{int(mask.sum())})"


def report(examples: list[Example], labels: np.ndarray, rules: np.ndarray, model: np.ndarray):
    either = rules | model
    crisis, ordinary = labels == 1, labels == 0
    print(f"{'':<14}{'recall':>18}{'false alarms':>18}")
    for name, hits in (("rules*", rules), ("model", model), ("rules* OR model", either)):
        print(f"{name:<14}{rate(hits, crisis):>18}{rate(hits, ordinary):>18}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[ex.lang].append(i)
        groups[ex.category].append(i)
    print(f"\n{'rules* OR model':<14}{'answered':>18}")
    for name, idx in groups.items():
        mask = np.zeros(len(examples), bool)
        mask[idx] = True
        print(f"{name:<14}{rate(either, mask & crisis if crisis[idx].any() else mask):>18}")
    print("* the rules were written on dev: their figures here are in-sample")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print figures, write nothing")
    args = parser.parse_args()
    examples = load("dev")
    texts = [normalise(ex.text) for ex in examples]
    labels = np.array([int(ex.crisis) for ex in examples])
    strata = [f"{ex.lang}-{ex.crisis}" for ex in examples]
    detector = load_crisis_words(PROJECT_ROOT / "locales" / "crisis", model=False)
    rules = np.array([detector.detect(ex.text) is not None for ex in examples])
    best: tuple[float, float, float, np.ndarray] | None = None
    for c in C_GRID:
        probs = out_of_fold(texts, labels, strata, c)
        threshold = threshold_for(probs, labels, rules)
        recall = float(((probs >= threshold) | rules)[labels == 1].mean())
        model_recall = float((probs >= threshold)[labels == 1].mean())
        print(
            f"C={c:<5} threshold {threshold:.3f}  model recall {model_recall:.1%}  "
            f"rules OR model {recall:.1%}"
        )
        if best is None or model_recall > best[0]:
            best = (model_recall, c, threshold, probs)
    assert best is not None
    _, c, threshold, probs = best
    print(f"\n== dev, {FOLDS}-fold cross-validated (C={c}, threshold {threshold:.3f})")
    report(examples, labels, rules, probs >= threshold)
    if args.dry_run:
        return
    vec, clf = fit(texts, labels, c)
    names = sorted(vec.vocab, key=vec.vocab.__getitem__)
    weights = {f: float(f"{w:.7g}") for f, w in zip(names, clf.coef_[0], strict=True)}
    picks = [examples[i].text for i in np.linspace(0, len(examples) - 1, CHECKS).astype(int)]
    picks.append(" ".join(ex.text for ex in examples[::40]))  # longer than a window
    checks = [{"text": t, "probability": probability(vec, clf, normalise(t))} for t in picks]
    doc = {
        "format": FORMAT,
        "about": "crisis detector's second opinion; written by bench/crisis_model_train.py "
        f"from tests/data/crisis/dev only; C={c}, {FOLDS}-fold threshold",
        "bias": float(clf.intercept_[0]),
        "threshold": round(threshold, 6),
        "checks": checks,
        "weights": weights,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    load_model(OUT)  # refuses the file if the scorer does not reproduce training
    print(
        f"\nwrote {OUT.relative_to(PROJECT_ROOT)}: {len(weights)} weights, "
        f"{OUT.stat().st_size // 1024} KB"
    )


if __name__ == "__main__":
    main()
