"""How long the crisis detector takes on typed messages (it runs on every one).

    python bench/crisis_speed.py

Messages are made of the dev set's ordinary messages in every language, shuffled (a fixed
seed) and cut to a length, each checked once after a warm-up; half end with a crisis
message, so both ways out of the detector are timed. Prints the median, p99 and maximum
per call for 60, 1,000 and 10,000 characters (the most the detector reads), in CPU time
of this thread (what the detector costs, whatever else the machine runs) and in wall
time (what a message waited, which on a busy machine includes other processes' turns).
Target: p99 under 2 ms at 1,000 characters.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crisis_eval import load
from bot.config import PROJECT_ROOT
from bot.content.crisis_lists import load_crisis_words

TARGET_MS = 2.0


def messages(length: int, count: int, seed: int = 17) -> list[str]:
    examples = load("dev")
    ordinary = [ex.text for ex in examples if not ex.crisis]
    crisis = [ex.text for ex in examples if ex.crisis]
    rng = random.Random(seed)
    made = []
    for i in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < length:
            parts.append(rng.choice(ordinary))
        text = " ".join(parts)
        if i % 2:
            ending = rng.choice(crisis)
            text = text[: length - len(ending) - 1] + " " + ending
        made.append(text[:length])
    return made


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p99 = times[int(len(times) * 0.99) - 1]
    return f"{statistics.median(times):>9.3f}{p99:>9.3f}{times[-1]:>9.3f}"


def main() -> None:
    detector = load_crisis_words(PROJECT_ROOT / "locales" / "crisis")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':<14}{'CPU time (ms)':^27}{'wall time (ms)':^27}")
    print(f"{'message':<14}" + f"{'median':>9}{'p99':>9}{'max':>9}" * 2)
    for length, count in ((60, 2000), (1000, 2000), (10_000, 300)):
        texts = messages(length, count)
        for text in texts[:50]:
            detector.detect(text)  # warm the folding cache
        cpu, wall = [], []
        for text in texts:
            start_cpu, start_wall = time.thread_time(), time.perf_counter()
            detector.detect(text)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start_wall) * 1000)
        print(f"{f'{length:,} chars':<14}{percentiles(cpu)}{percentiles(wall)}")
        if length == 1000:
            p99 = sorted(cpu)[int(len(cpu) * 0.99) - 1]
            verdict = "on target" if p99 <= TARGET_MS else "OVER TARGET"
            print(f"{'':<14}CPU p99 target {TARGET_MS} ms at 1,000 characters: {verdict}")


if __name__ == "__main__":
    main()
