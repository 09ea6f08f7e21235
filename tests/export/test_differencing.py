"""An attacker who combines every figure they can get, and tries to count one child.

A lone conversation on 1 January 2026 among many: it said it was in danger, named
intimate images and Snapchat, came from group g1. Eight witnesses in January answer the
same questions in their own flow, one of them in danger and two on Snapchat: small counts
of each flow's answers (``choices:<flow>:<step>``, the dashboard's flow map), which the
answers of all flows or the witnesses' funnel give away unless suppression knows every
tie between them. The attacker asks for everything an operator, a dashboard viewer and a
group admin can ask for: the dashboard's JSON and `relais export` for ranges shifted by
a day, overlapping, with `by` day, week and month (a refused request publishes nothing),
and the group's /stats on every day from 1 January to 5 March. Each published figure
becomes a linear constraint on the unknown true counts per day (an exact sum, `<k`, `x`
= at least k, `N+` = at least N), together with the sums a reader knows tie tables
(started = origins = languages = funnel starts; answers = the funnel steps that ask; one
flow's answers = its funnel step; an answer = its rows in each flow; ...). Linear
programming then gives the smallest and largest value each count could have. A count
between 1 and k-1 whose range is a single value is a disclosure.

The same file run against the code before monthly figures finds the lone conversation
(README, "What a figure can be used for"; /work/notes/figures.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from bot.cli import main
from bot.domain.conversation import Stat
from bot.export.dashboard import dashboard_app
from bot.storage.sqlite import SqliteStorage
from tests.export_seed import save

K = 5
TOKEN = "operator-token-0123456789"
GROUP = "g1"
DASHBOARD_NOW = dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC)
FIRST_DAY, LAST_DAY = dt.date(2025, 12, 1), dt.date(2026, 3, 8)  # what the attacker models
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
DIMENSION_STEP = {"danger": "danger", "harassment_kind": "what", "platform": "where"}
FLOWS = ("victim", "witness")

Series = tuple[str, str, str]  # (table, row label, column)


@dataclass(frozen=True)
class Person:
    day: dt.date
    danger: bool
    kind: str
    platform: str
    origin: str | None
    flow: str = "victim"


def people() -> list[Person]:
    """The lone conversation of 1 January, then 8 a day on five days of January and on
    four of February, each answer given by at least 5 people a month."""
    crowd = [Person(dt.date(2026, 1, 1), True, "images", "snapchat", GROUP)]
    kinds = ["insults", "images", "threats", "insults"]
    platforms = ["instagram", "snapchat", "tiktok", "instagram"]
    days = [dt.date(2026, 1, d) for d in (5, 12, 19, 26, 30)]
    days += [dt.date(2026, 2, d) for d in (3, 10, 17, 24)]
    n = 0
    for day in days:
        for _ in range(8):
            crowd.append(
                Person(
                    day,
                    n % 17 == 0,
                    kinds[n % 4],
                    platforms[(n // 2) % 4],
                    GROUP if n % 2 else None,
                )
            )
            n += 1
    for i in range(8):  # witnesses: 1 in danger (a small count), 2 on Snapchat
        day = dt.date(2026, 1, 12 if i % 2 else 26)
        platform = "snapchat" if i < 2 else "instagram"
        crowd.append(Person(day, i == 0, "insults", platform, None, "witness"))
    return crowd


def stats_of(p: Person) -> list[Stat]:
    stats = [
        Stat("flow_started", flow=p.flow),
        Stat(
            "step_answered",
            flow=p.flow,
            step="danger",
            dimension="danger",
            choice="yes" if p.danger else "no",
        ),
    ]
    if p.danger:
        stats.append(Stat("emergency_shown", flow=p.flow, step="danger"))
    stats += [
        Stat("step_answered", flow=p.flow, step="what", dimension="harassment_kind", choice=p.kind),
        Stat("step_answered", flow=p.flow, step="where", dimension="platform", choice=p.platform),
        Stat("flow_completed", flow=p.flow, step="result"),
        Stat("resource_shown", flow=p.flow, step="result", choice="fr-3018"),
    ]
    return stats


def answers_of(p: Person) -> dict[str, str]:
    return {
        "danger": "yes" if p.danger else "no",
        "harassment_kind": p.kind,
        "platform": p.platform,
    }


def truth() -> dict[tuple[Series, dt.date], int]:
    """True distinct conversations per series and day."""
    counts: defaultdict[tuple[Series, dt.date], int] = defaultdict(int)
    for p in people():
        funnel = f"funnel:{p.flow}"
        series: list[Series] = [
            ("activity", "", "started"),
            ("activity", "", "completed"),
            (funnel, "(started)", "conversations"),
            *[(funnel, s, "conversations") for s in ("danger", "what", "where", "result")],
            ("origin", p.origin or "direct", "conversations"),
            ("locale", "fr", "conversations"),
            ("resources", "fr-3018", "conversations"),
        ]
        for dimension, choice in answers_of(p).items():
            step = DIMENSION_STEP[dimension]
            series.append((f"answers:{dimension}", choice, "conversations"))
            series.append((f"choices:{p.flow}:{step}", choice, "conversations"))
        if p.danger:
            series.append(("activity", "", "emergency"))
        for s in series:
            counts[(s, p.day)] += 1
    return counts


async def seed(storage: SqliteStorage) -> None:
    for i, p in enumerate(people()):
        at = dt.datetime.combine(p.day, dt.time(9), dt.UTC)  # 10:00 in Paris
        await save(storage, f"sess-{i}", stats_of(p), at, origin=p.origin)


# -- what the attacker reads ------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """sum of the true counts of ``series`` over ``days`` lies in ``low..high``."""

    series: tuple[Series, ...]
    days: frozenset[dt.date]
    low: float
    high: float


def days_of_period(label: str) -> set[dt.date]:
    if "-W" in label:  # ISO week
        year, week = label.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
        return {monday + dt.timedelta(days=i) for i in range(7)}
    parts = label.split("-")
    if len(parts) == 3:
        return {dt.date.fromisoformat(label)}
    first = dt.date(int(parts[0]), int(parts[1]), 1)
    return {d for d in DAYS if d.year == first.year and d.month == first.month}


def bounds_of(cell: dict[str, object]) -> tuple[float, float] | None:
    if cell.get("partial"):
        return float(cell["value"]), np.inf  # type: ignore[arg-type]
    if cell["hidden"] == "small":
        return 0, K - 1
    if cell["hidden"] == "complementary":
        return K, np.inf
    return float(cell["value"]), float(cell["value"])  # type: ignore[arg-type]


def read_report(data: dict[str, object]) -> list[Figure]:
    """Every cell of an export (JSON, schema v1 or v2) as a figure on the daily counts."""
    span = data["range"]
    assert isinstance(span, dict)
    covered = days_of_period(span["from"]) | days_of_period(span["to"])
    start, end = min(covered), max(covered)
    in_range = frozenset(d for d in DAYS if start <= d <= end)
    figures = []
    for table in data["tables"]:  # type: ignore[attr-defined]
        labels = [row["label"] for row in table["rows"]]
        for row in [*table["rows"], *([table["total"]] if table["total"] else [])]:
            for column, cell in zip(table["columns"], row["cells"], strict=True):
                found = bounds_of(cell)
                if found is None:
                    continue
                col = column if table["id"] == "activity" else "conversations"
                if table["id"] == "activity":
                    series: tuple[Series, ...] = (("activity", "", col),)
                    days = (
                        in_range
                        if row is table["total"]
                        else in_range & days_of_period(row["label"])
                    )
                elif row is table["total"]:
                    series, days = tuple((table["id"], label, col) for label in labels), in_range
                else:
                    series, days = ((table["id"], row["label"], col),), in_range
                figures.append(Figure(series, frozenset(days), *found))
    return figures


RANGES = [
    ("2026-01-01", "2026-01-31"),
    ("2026-01-02", "2026-01-31"),
    ("2025-12-29", "2026-01-31"),
    ("2026-01-01", "2026-02-28"),
    ("2026-01-02", "2026-02-28"),
    ("2026-01-01", "2026-01-15"),
    ("2026-01-10", "2026-02-10"),
    ("2026-02-01", "2026-02-28"),
]


async def dashboard_figures(storage: SqliteStorage) -> list[Figure]:
    app = dashboard_app(storage, TOKEN, k=K, clock=lambda: DASHBOARD_NOW)
    figures = []
    async with TestClient(TestServer(app)) as client:
        for first, last in RANGES:
            for by in ("day", "week", "month"):
                response = await client.get(
                    "/export.json",
                    params={"from": first, "to": last, "by": by},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                if response.status == 200:  # a refused request publishes nothing
                    figures += read_report(await response.json())
    return figures


def export_figures(database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("EXPORT_K", str(K))
    figures = []
    for i, (first, last) in enumerate(RANGES):
        out = tmp_path / f"export-{i}.json"
        try:
            code = main(["export", "--from", first, "--to", last, "-o", str(out)])
        except SystemExit as exc:  # argparse refused the request
            code = int(exc.code or 0)
        if code == 0:
            figures += read_report(json.loads(out.read_text("utf-8")))
    return figures


async def stats_figures(storage: SqliteStorage) -> list[Figure]:
    """/stats as the group's admin sees it, read every day at noon."""
    series = (("origin", GROUP, "conversations"),)
    figures = []
    day = dt.date(2026, 1, 1)
    while day <= dt.date(2026, 3, 5):
        now = dt.datetime.combine(day, dt.time(12), dt.UTC)
        try:
            from bot.dialogue.group_stats import group_months  # type: ignore[import-not-found]
        except ImportError:  # before monthly figures: the last 7 and 30 days (groups.py)
            for days in (7, 30):
                n = await storage.count_origin(GROUP, now - dt.timedelta(days=days))
                low, high = (0, K - 1) if n < K else (n, n)
                # from that hour on: the seed's later days are in the database already
                window = frozenset(d for d in DAYS if d > day - dt.timedelta(days=days))
                figures.append(Figure(series, window, low, high))
        else:
            from zoneinfo import ZoneInfo

            for month in await group_months(storage, GROUP, ZoneInfo("Europe/Paris"), now, K):
                cell = {"value": month.count, "hidden": month.hidden}
                low, high = bounds_of(cell)  # type: ignore[misc]
                figures.append(Figure(series, frozenset(days_of_period(month.label)), low, high))
        day += dt.timedelta(days=1)
    return figures


# -- the solver ---------------------------------------------------------------------------


def ties(all_series: Iterable[Series]) -> list[tuple[list[Series], list[Series]]]:
    """Sums a reader knows, each day: left == right."""
    by_table: defaultdict[str, list[Series]] = defaultdict(list)
    for s in all_series:
        by_table[s[0]].append(s)
    started = ("activity", "", "started")
    ends = [(f"funnel:{flow}", "result", "conversations") for flow in FLOWS]
    out = [
        ([started], by_table["origin"]),
        ([started], by_table["locale"]),
        ([started], [(f"funnel:{flow}", "(started)", "conversations") for flow in FLOWS]),
        ([("activity", "", "completed")], ends),
        ([("activity", "", "emergency")], [("answers:danger", "yes", "conversations")]),
        ([("resources", "fr-3018", "conversations")], ends),
    ]
    for dimension, step in DIMENSION_STEP.items():
        steps = [(f"funnel:{flow}", step, "conversations") for flow in FLOWS]
        out.append((by_table[f"answers:{dimension}"], steps))
        for flow in FLOWS:  # one flow's answers add up to its funnel row of the step
            out.append((by_table[f"choices:{flow}:{step}"], [steps[FLOWS.index(flow)]]))
        for answer in by_table[f"answers:{dimension}"]:  # each answer, over the flows
            per_flow = [(f"choices:{flow}:{step}", answer[1], answer[2]) for flow in FLOWS]
            out.append(([answer], [s for s in per_flow if s in by_table[s[0]]]))
    return out


def disclosures(figures: list[Figure]) -> list[str]:
    """Counts between 1 and k-1 (per day, or per month) that the figures pin down."""
    all_series = sorted({s for f in figures for s in f.series} | {s for s, _ in truth()})
    index = {(s, d): i for i, (s, d) in enumerate((s, d) for s in all_series for d in DAYS)}
    rows_eq, rhs_eq, rows_ub, rhs_ub = [], [], [], []

    def vector(series: Iterable[Series], days: Iterable[dt.date]) -> np.ndarray:
        v = np.zeros(len(index))
        for s in series:
            for d in days:
                v[index[(s, d)]] += 1
        return v

    for f in set(figures):  # the same figure read twice says nothing more
        v = vector(f.series, f.days)
        if f.low == f.high:
            rows_eq.append(v)
            rhs_eq.append(f.low)
            continue
        rows_ub.append(-v)
        rhs_ub.append(-f.low)
        if f.high != np.inf:
            rows_ub.append(v)
            rhs_ub.append(f.high)
    for left, right in ties(all_series):
        for d in DAYS:
            rows_eq.append(vector(left, [d]) - vector(right, [d]))
            rhs_eq.append(0)
    true = truth()
    targets: list[tuple[str, np.ndarray, int]] = []
    for (s, d), n in true.items():
        if 1 <= n < K:
            targets.append((f"{s} on {d}", vector([s], [d]), n))
    for s in {s for s, _ in true}:
        for month in ("2026-01", "2026-02"):
            days = days_of_period(month)
            n = sum(true.get((s, d), 0) for d in days)
            if 1 <= n < K:
                targets.append((f"{s} in {month}", vector([s], days), n))
    a_ub = csr_matrix(np.array(rows_ub)) if rows_ub else None
    b_ub = np.array(rhs_ub) if rhs_ub else None
    a_eq, b_eq = csr_matrix(np.array(rows_eq)), np.array(rhs_eq)
    print(len(targets), "targets,", len(rows_eq), "+", len(rows_ub), "constraints")
    found = []
    for name, target, n in targets:
        ends = []
        for sign in (1, -1):
            result = linprog(
                sign * target,
                A_ub=a_ub,
                b_ub=b_ub,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=(0, None),
                method="highs",
            )
            assert result.status in (0, 3), result.message  # optimal, or unbounded
            ends.append(sign * result.fun if result.status == 0 else sign * np.inf)
        if ends[1] - ends[0] < 0.5:
            found.append(f"{name} = {n} (the figures allow only {ends[0]:g}..{ends[1]:g})")
    return found


def test_the_truth_has_small_counts_to_find() -> None:
    """The seed is a fair test: the lone conversation's day and some months hold counts
    between 1 and k-1, and the attacker's model of the ties holds on it."""
    true = truth()
    assert true[(("answers:platform", "snapchat", "conversations"), dt.date(2026, 1, 1))] == 1
    witnesses_in_danger = ("choices:witness:danger", "yes", "conversations")
    assert sum(n for (s, _), n in true.items() if s == witnesses_in_danger) == 1
    small_months = [
        s
        for s in {s for s, _ in true}
        if 1 <= sum(n for (t, d), n in true.items() if t == s and d.month == 1) < K
    ]
    assert small_months  # e.g. emergency shown in January


def test_no_sequence_of_requests_pins_a_small_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "relais.sqlite3"

    async def collect() -> list[Figure]:
        async with SqliteStorage(database) as storage:
            await seed(storage)
            return await dashboard_figures(storage) + await stats_figures(storage)

    figures = asyncio.run(collect())
    figures += export_figures(database, tmp_path, monkeypatch)
    assert len(figures) > 100  # the attacker did get figures
    assert disclosures(figures) == []
