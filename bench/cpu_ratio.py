"""Relais's CPU time per update against the hand-written PTB bot: a figure a loaded
machine hardly moves (``bench/run.py`` measures wall time, which other work on the
machine swings by a third and more).

    python bench/cpu_ratio.py [--users 300] [--rounds 4]

Each round runs (b) then (a) of ``bench/run.py`` one update at a time (warm-up included)
and prints the ratio of the CPU time (``time.process_time``) Relais took over the
hand-written bot's: below 1.0, Relais costs less per update; 1 / ratio is the throughput
ratio an otherwise idle machine gives.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bench.run import run_handwritten, run_relais  # noqa: E402
from bot.dialogue.checks import load_catalog  # noqa: E402


async def main(users: int, rounds: int) -> None:
    logging.basicConfig(level=logging.CRITICAL)
    catalog = load_catalog(ROOT / "flows", ROOT / "locales")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for _ in range(rounds):
            started = time.process_time()
            await run_handwritten(catalog, users, 1, tmp, pickle=False)
            middle = time.process_time()
            await run_relais(catalog, users, 1, tmp)
            ratios.append((time.process_time() - middle) / (middle - started))
    print("runs:", " ".join(f"{r:.3f}" for r in ratios))
    print(f"relais/ptb CPU time per update: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.rounds))
