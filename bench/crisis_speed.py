"""How long the crisis-word detector takes on typed messages (it runs on every one).

    python bench/crisis_speed.py

Prints microseconds per call for a short message, a 5,000-character message and a
10,000-character one (the longest the detector reads), against ``str.casefold`` of the
same text as a baseline measured in the same run.
"""

from __future__ import annotations

import timeit

from bot.config import PROJECT_ROOT
from bot.content.crisis import load_crisis_words

mentions_crisis = load_crisis_words(PROJECT_ROOT / "locales" / "crisis").mentions


def per_call(fn: object, number: int) -> float:
    timer = timeit.Timer(fn)  # type: ignore[arg-type]
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> None:
    base = "je suis harcelée sur insta et personne ne me croit مرحبا привіт "
    print(f"{'message':<22}{'detector µs':>14}{'casefold µs':>14}{'ratio':>8}")
    for name, text in (
        ("short (60 chars)", base),
        ("5,000 chars", (base * 100)[:5000]),
        ("10,000 chars", (base * 200)[:10000]),
    ):
        mentions_crisis(text)  # warm the caches
        detector = per_call(lambda t=text: mentions_crisis(t), 20)
        baseline = per_call(lambda t=text: t.casefold(), 20)
        print(f"{name:<22}{detector:>14.0f}{baseline:>14.1f}{detector / baseline:>8.0f}")


if __name__ == "__main__":
    main()
