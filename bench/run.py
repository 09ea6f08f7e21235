"""Relais against a hand-written python-telegram-bot, same machine, same run.

    python bench/run.py            # or: make bench

Three bots handle the same 10,000 updates (1,000 users walking the victim flow,
interleaved; ``bench/updates.py``), with Telegram replaced by an in-process request
object that answers at once (``bench/canned.py``):

  (a) Relais: the real ``build_application``, YAML engine, SQLite storage; every step is
      committed to the database before its reply is sent;
  (b) the same conversation hand-written with ``ConversationHandler``, nothing persisted;
  (c) (b) with PTB's ``PicklePersistence`` (default settings: it writes every
      ``update_interval``, so the flush is timed separately and counted in throughput).

Sequential: updates are handled one at a time, as PTB does by default; latency is one
``Application.process_update`` call (the update already decoded: ``Update.de_json`` costs
the same for every bot and is reported on its own line). At saturation: ``--workers``
updates in flight at once, so the event loop never idles; this is where the storage's
worker thread could starve (``bot/storage/sqlite.py``), so the worst case is reported,
and the slowest single database round trip with it.

The last line is ``relais/ptb throughput ratio: X.XX``: (a) over (b), sequential, where
Relais cannot batch anything (each update is committed alone before the next starts);
the line before gives the same ratio at saturation, where turns of different chats that
reach the database together share one commit (group commit, ``bot/storage/sqlite.py``).
Each figure is the median of several runs, (a) and (b) alternated, because a shared
machine's noise moves single runs by a third.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, PicklePersistence  # noqa: E402

from bench.canned import CannedRequest  # noqa: E402
from bench.handwritten import build_handwritten  # noqa: E402
from bench.updates import interleaved  # noqa: E402
from bot.channels.telegram.app import build_application  # noqa: E402
from bot.content.catalog import Catalog  # noqa: E402
from bot.dialogue.checks import load_catalog  # noqa: E402
from bot.dialogue.conversation_cache import ConversationCache  # noqa: E402
from bot.dialogue.engine import Engine, callback_data  # noqa: E402
from bot.dialogue.service import Dialogue  # noqa: E402
from bot.storage.sqlite import SqliteStorage  # noqa: E402

App = Application[Any, Any, Any, Any, Any, Any]
TOKEN = "123456:bench-token"
SECRET = "bench-secret"
WARMUP_USERS = 100


@dataclass
class Result:
    """One bot's run: latencies in seconds, in update order."""

    name: str
    seconds: float
    latencies: list[float]
    sent: int
    errors: int
    flush: float = 0.0  # persistence written after the run (c)
    slowest_db: float = 0.0  # slowest single database round trip (a)
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / (self.seconds + self.flush)

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class TimedSqlite(SqliteStorage):
    """SQLite storage that remembers its slowest operation of a turn (on the event loop,
    or in the storage's thread when the database was busy)."""

    slowest = 0.0

    async def _run_short(self, fn: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await super()._run_short(fn, *args)
        finally:
            self.slowest = max(self.slowest, time.perf_counter() - started)


def relais_data(catalog: Catalog) -> Callable[[str, str], str]:
    def data(step: str, choice: str) -> str:
        flow = catalog.flow("start" if step == "who" else "victim")
        assert flow is not None
        return callback_data(flow, step, choice)

    return data


def handwritten_data(step: str, choice: str) -> str:
    return f"{step}:{choice}"


async def drive(app: App, raw: list[dict[str, Any]], workers: int) -> tuple[float, list[float]]:
    """Handle every update, ``workers`` at a time; return wall time and latencies."""
    updates = [Update.de_json(u, app.bot) for u in raw]
    latencies = [0.0] * len(updates)
    position = iter(range(len(updates)))

    async def worker() -> None:
        for i in position:
            started = time.perf_counter()
            await app.process_update(updates[i])
            latencies[i] = time.perf_counter() - started

    # The decoded updates are the harness's, alive only because they were decoded ahead:
    # frozen, Python's full collections do not scan them (they took up to 0.3 s each,
    # for whichever bot allocated enough to trigger them).
    gc.collect()
    gc.freeze()
    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return time.perf_counter() - started, latencies
    finally:
        gc.unfreeze()


def count_errors(app: App) -> list[int]:
    errors = [0]

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors[0] += 1
        if errors[0] == 1:
            print(f"  first error: {context.error!r}", file=sys.stderr)

    app.add_error_handler(on_error)
    return errors


def split(raw: list[dict[str, Any]], users: int) -> tuple[list[Any], list[Any]]:
    """Warm-up updates (the first users), then the measured ones."""
    from bench.updates import FIRST_USER

    def user_of(u: dict[str, Any]) -> int:
        inner = u.get("message") or u["callback_query"]
        return int(inner["from"]["id"])

    warm = [u for u in raw if user_of(u) < FIRST_USER + WARMUP_USERS]
    rest = [u for u in raw if user_of(u) >= FIRST_USER + WARMUP_USERS]
    return warm, rest


async def run_relais(catalog: Catalog, users: int, workers: int, tmp: Path) -> Result:
    storage = TimedSqlite(tmp / f"relais-{time.monotonic_ns()}.sqlite3")
    request = CannedRequest()
    app = build_application(
        TOKEN,
        # As `relais run` (polling) builds it: one writer, so conversations are cached.
        Dialogue(Engine(catalog), storage, cache=ConversationCache()),
        SECRET,
        request=request,
        messages_per_second=1_000_000,  # the flood limit is Telegram's, not a cost to measure
    )
    errors = count_errors(app)
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    try:
        warm, rest = split(interleaved(users + WARMUP_USERS, relais_data(catalog)), users)
        await drive(app, warm, workers)
        sent_before, storage.slowest = request.sent, 0.0
        seconds, latencies = await drive(app, rest, workers)
        return Result(
            "(a) Relais (YAML engine, SQLite)",
            seconds,
            latencies,
            request.sent - sent_before,
            errors[0],
            slowest_db=storage.slowest,
        )
    finally:
        await app.shutdown()
        await app.post_shutdown(app)


async def run_handwritten(
    catalog: Catalog, users: int, workers: int, tmp: Path, pickle: bool
) -> Result:
    request = CannedRequest()
    persistence = PicklePersistence(tmp / f"ptb-{time.monotonic_ns()}.pickle") if pickle else None
    app = build_handwritten(TOKEN, catalog, request, persistence)
    errors = count_errors(app)
    await app.initialize()
    try:
        warm, rest = split(interleaved(users + WARMUP_USERS, handwritten_data), users)
        await drive(app, warm, workers)
        if pickle:
            await app.update_persistence()
        sent_before = request.sent
        seconds, latencies = await drive(app, rest, workers)
        flush = 0.0
        if pickle:
            started = time.perf_counter()
            await app.update_persistence()  # what PTB does every 60 s, on the event loop
            flush = time.perf_counter() - started
        name = "(c) PTB + PicklePersistence" if pickle else "(b) PTB ConversationHandler"
        return Result(name, seconds, latencies, request.sent - sent_before, errors[0], flush)
    finally:
        await app.shutdown()


def decode_cost(catalog: Catalog, users: int) -> float:
    """Seconds per update for ``Update.de_json`` (paid by every bot alike)."""
    from telegram import Bot

    raw = interleaved(users, relais_data(catalog))
    bot = Bot(TOKEN)
    started = time.perf_counter()
    for u in raw:
        Update.de_json(u, bot)
    return (time.perf_counter() - started) / len(raw)


def table(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    header = f"{'bot':<36} {'updates/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}  notes"
    print(header)
    print("-" * len(header))
    for r in results:
        notes = list(r.notes)
        if r.flush:
            notes.append(f"flush {r.flush:.1f} s blocks the loop (counted)")
        if r.slowest_db:
            notes.append(f"slowest database call {1000 * r.slowest_db:.1f} ms")
        if r.errors:
            notes.append(f"{r.errors} ERRORS")
        print(
            f"{r.name:<36} {r.rate:>9.0f} {r.ms(0.50):>7.2f} {r.ms(0.99):>7.2f} "
            f"{1000 * max(r.latencies):>8.1f}  {'; '.join(notes)}"
        )


def median_run(runs: list[Result]) -> Result:
    """The run with the median throughput (its own latencies, not a mix)."""
    ordered = sorted(runs, key=lambda r: r.rate)
    chosen = ordered[len(ordered) // 2]
    if len(runs) > 1:
        rates = ", ".join(f"{r.rate:.0f}" for r in runs)
        chosen.notes.append(f"median of {len(runs)} runs ({rates}/s)")
    return chosen


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.CRITICAL)  # Relais logs an INFO line per conflict...
    catalog = load_catalog(ROOT / "flows", ROOT / "locales")
    expected = 11 * args.users  # messages sent or edited on the path, per user
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        relais: list[Result] = []
        ptb: list[Result] = []
        for _ in range(args.rounds):  # alternated, so background noise hits both alike
            ptb.append(await run_handwritten(catalog, args.users, 1, tmp, pickle=False))
            relais.append(await run_relais(catalog, args.users, 1, tmp))
        pickled = await run_handwritten(catalog, args.users, 1, tmp, pickle=True)
        sequential = [median_run(relais), median_run(ptb), pickled]
        busy_relais: list[Result] = []
        busy_ptb: list[Result] = []
        for _ in range((args.rounds + 1) // 2):
            busy_ptb.append(
                await run_handwritten(catalog, args.users, args.workers, tmp, pickle=False)
            )
            busy_relais.append(await run_relais(catalog, args.users, args.workers, tmp))
        busy = [median_run(busy_relais), median_run(busy_ptb)]
    for r in (*relais, *ptb, pickled, *busy_relais, *busy_ptb):
        if r.errors or r.sent != expected:
            raise SystemExit(f"{r.name}: {r.errors} errors, {r.sent} messages of {expected}")
    n = len(sequential[0].latencies)
    print(f"{n} updates from {args.users} users, interleaved (after {WARMUP_USERS} warm-up users);")
    print(f"Telegram answered in-process; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.")
    print("Latency: one update, from Application.process_update to its last reply sent.")
    table("Sequential (one update at a time, PTB's default)", sequential)
    table(f"Saturation ({args.workers} updates in flight, the loop never idle)", busy)
    decode = decode_cost(catalog, 200)
    print(f"\nUpdate.de_json, paid by every bot on top: {1000 * decode:.2f} ms per update")
    print(f"relais/ptb at saturation: {busy[0].rate / busy[1].rate:.2f}")
    ratio = sequential[0].rate / sequential[1].rate
    print(f"relais/ptb throughput ratio: {ratio:.2f}")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=1000, help="users, 10 updates each")
    p.add_argument(
        "--rounds", type=int, default=5, help="sequential runs of (a) and (b) (busy: half)"
    )
    p.add_argument("--workers", type=int, default=32, help="updates in flight at saturation")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
