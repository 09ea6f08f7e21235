"""How well the crisis detector does on the labelled messages in tests/data/crisis/.

    python bench/crisis_eval.py              # each held-out part, then dev + held-out
    python bench/crisis_eval.py --dev        # the dev part only, with every mistake listed
    python bench/crisis_eval.py --rules      # the same with the phrase lists alone

Recall: crisis messages that get an emergency answer. False alarms: ordinary messages that
get one. Tier accuracy: crisis messages answered with the tier their category expects
(``sextortion`` accepts either). Per language and per category. ``heldout/`` was written
apart from the phrase lists and is never used to tune them (tests/data/crisis/README.md):
listing its mistakes would invite exactly that, so only ``--dev`` lists mistakes. Every
``heldout*`` folder (``heldout``, ``heldout2``...) is a part of its own, reported apart.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass, field

import yaml

from bot.config import PROJECT_ROOT
from bot.content.crisis import CrisisWords
from bot.content.crisis_lists import load_crisis_words
from bot.domain.crisis import Tier

DATA = PROJECT_ROOT / "tests" / "data" / "crisis"
EXPECTED_TIER = {
    "explicit": Tier.SELF,
    "passive": Tier.SELF,
    "plan": Tier.SELF,
    "farewell": Tier.SELF,
    "self_harm": Tier.SELF,
    "danger": Tier.OTHERS,
    "sextortion": None,  # either answer carries the emergency numbers
}
RECALL_TARGET = 0.97
FALSE_ALARM_TARGET = 0.05


@dataclass(frozen=True)
class Example:
    lang: str
    crisis: bool
    category: str
    text: str


@dataclass
class Count:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.rate:6.1%} ({self.right}/{self.total})" if self.total else "     -"


@dataclass
class Scores:
    recall: Count = field(default_factory=Count)
    false_alarms: Count = field(default_factory=Count)
    tier: Count = field(default_factory=Count)
    locale: Count = field(default_factory=Count)
    by_lang: dict[str, tuple[Count, Count]] = field(
        default_factory=lambda: defaultdict(lambda: (Count(), Count()))
    )
    by_category: dict[str, Count] = field(default_factory=lambda: defaultdict(Count))
    mistakes: list[str] = field(default_factory=list)

    @property
    def on_target(self) -> bool:
        return self.recall.rate >= RECALL_TARGET and self.false_alarms.rate <= FALSE_ALARM_TARGET


def load(part: str) -> list[Example]:
    """Every message of ``tests/data/crisis/<part>/``."""
    examples = []
    for path in sorted((DATA / part).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for side in ("crisis", "ordinary"):
            for category, texts in doc[side].items():
                for text in texts:
                    if not isinstance(text, str):  # YAML reads a bare no or yes as a boolean
                        raise SystemExit(f"{path}: {side}.{category}: quote {text!r}")
                    examples.append(Example(path.stem, side == "crisis", category, text))
    return examples


def score(detector: CrisisWords, examples: list[Example]) -> Scores:
    scores = Scores()
    for ex in examples:
        hit = detector.detect(ex.text)
        recall, false_alarms = scores.by_lang[ex.lang]
        if ex.crisis:
            scores.recall.add(hit is not None)
            recall.add(hit is not None)
            scores.by_category[ex.category].add(hit is not None)
            if hit is not None:
                expected = EXPECTED_TIER[ex.category]
                scores.tier.add(expected is None or hit.tier is expected)
                scores.locale.add(hit.locale in (ex.lang, None))
                if expected not in (None, hit.tier):
                    scores.mistakes.append(f"[{ex.lang}] tier {hit.tier}: {ex.text!r}")
            else:
                scores.mistakes.append(f"[{ex.lang}] missed {ex.category}: {ex.text!r}")
        else:
            false_alarms.add(hit is not None)
            scores.false_alarms.add(hit is not None)
            scores.by_category[ex.category].add(hit is not None)
            if hit is not None:
                scores.mistakes.append(f"[{ex.lang}] false alarm {ex.category}: {ex.text!r}")
    return scores


def report(title: str, scores: Scores) -> None:
    print(f"\n== {title}")
    print(f"recall {scores.recall}   false alarms {scores.false_alarms}")
    print(f"tier right {scores.tier}   locale right or untold {scores.locale}")
    print(f"{'language':<10}{'recall':>18}{'false alarms':>18}")
    for lang, (recall, false_alarms) in sorted(scores.by_lang.items()):
        print(f"{lang:<10}{recall!s:>18}{false_alarms!s:>18}")
    print(f"{'category':<12}{'answered':>16}")
    for category, count in scores.by_category.items():
        print(f"{category:<12}{count!s:>16}")
    verdict = "on target" if scores.on_target else "UNDER TARGET"
    print(f"targets: recall >= {RECALL_TARGET:.0%}, false alarms <= {FALSE_ALARM_TARGET:.0%}: ")
    print(verdict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", action="store_true", help="dev part only, mistakes listed")
    parser.add_argument("--rules", action="store_true", help="phrase lists alone, no model")
    args = parser.parse_args()
    detector = load_crisis_words(PROJECT_ROOT / "locales" / "crisis", model=not args.rules)
    if args.dev:
        scores = score(detector, load("dev"))
        report("dev", scores)
        print("\n".join(["", *scores.mistakes]))
        return
    heldout = [p.name for p in sorted(DATA.glob("heldout*")) if p.is_dir()]
    for part in heldout:
        report(f"{part} (never tuned on)", score(detector, load(part)))
    every = [ex for part in ["dev", *heldout] for ex in load(part)]
    report(f"all ({' + '.join(['dev', *heldout])})", score(detector, every))


if __name__ == "__main__":
    main()
