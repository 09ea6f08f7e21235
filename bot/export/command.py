"""``relais export`` and ``relais dashboard``: the wiring between settings and the export.

Kept out of ``bot/cli.py`` so the bot itself starts without the export's libraries
(openpyxl, aiohttp: the ``export`` extra); ``bot/cli.py`` imports this
module only when one of these two commands is asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings
from bot.domain.months import Month
from bot.errors import ConfigError
from bot.export import FORMATS, Format, layout_from_catalog, render
from bot.export.layout import Layout
from bot.export.periods import closed_range
from bot.export.tables import Report
from bot.storage import storage_from_url


def _timezone(settings: Settings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.export_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = settings.export_timezone
        raise SystemExit(f"EXPORT_TIMEZONE: unknown time zone {zone!r}") from None


def _layout(settings: Settings) -> Layout:
    """Step and answer order from the flows; figures still come out if they do not load."""
    from bot.content.catalog import read_catalog

    try:
        catalog = read_catalog(settings.flows_dir, settings.locales_dir, settings.default_locale)
    except ConfigError:
        print("warning: flows do not load (see `relais check`); plain ids", file=sys.stderr)
        return Layout()
    return layout_from_catalog(catalog, settings.default_locale)


def _format(args: argparse.Namespace) -> Format | None:
    """``--format``, else the output file's suffix (``None``: one we do not write), else
    CSV."""
    if args.format:
        return args.format  # type: ignore[no-any-return]
    suffix = Path(args.output).suffix.lstrip(".").lower() if args.output else ""
    if not suffix:
        return "csv"
    return next((f for f in FORMATS if f == suffix), None)


async def _report(settings: Settings, args: argparse.Namespace, layout: Layout) -> Report:
    from bot.export.queries import build_report

    tz = _timezone(settings)
    first, last = closed_range(args.first, args.last, dt.datetime.now(dt.UTC), tz)
    async with storage_from_url(settings.database_url) as storage:
        return await build_report(storage, first, last, tz, k=settings.export_k, layout=layout)


def export(settings: Settings, args: argparse.Namespace) -> int:
    """``relais export``: write the figures of whole closed months to a file (or stdout)."""
    fmt = _format(args)
    if fmt is None:
        known = ", ".join(f".{f}" for f in FORMATS)
        print(
            f"relais export: cannot write {args.output!r}: the file name must end in {known} "
            "(or give --format)",
            file=sys.stderr,
        )
        return 2
    if fmt == "xlsx" and not args.output and sys.stdout.isatty():
        print("an XLSX file is binary: give --output FILE", file=sys.stderr)
        return 2
    layout = _layout(settings)
    try:
        report = asyncio.run(_report(settings, args, layout))
    except ValueError as exc:  # e.g. the range ends before it starts
        print(f"relais export: {exc}", file=sys.stderr)
        return 2
    body = render(report, fmt, layout)
    if args.output:
        Path(args.output).write_bytes(body)
        print(
            f"wrote {args.output} ({fmt}, {len(body)} bytes): {report.first} to {report.last}",
            file=sys.stderr,
        )
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0


def dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """``relais dashboard``: serve the operator page until interrupted."""
    from aiohttp import web

    from bot.export.dashboard import SafeAccessLogger, dashboard_app

    token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
    if len(token) < 16:
        print("Set DASHBOARD_TOKEN (at least 16 characters) to serve the dashboard.")
        return 1
    storage = storage_from_url(settings.database_url)
    app = dashboard_app(
        storage,
        token,
        k=settings.export_k,
        tz=_timezone(settings),
        layout=_layout(settings),
    )

    async def storage_open(_: web.Application):  # type: ignore[no-untyped-def]
        async with storage:
            yield

    app.cleanup_ctx.append(storage_open)
    print(f"Dashboard on http://{args.host}:{args.port}/ (token required)")
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        access_log_class=SafeAccessLogger,
        print=None,
    )
    return 0


def month(text: str) -> Month:
    """``--from``/``--to``: ``2026-03`` (a date stands for its month)."""
    return Month.parse(text)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``export`` and ``dashboard`` (argparse only; nothing heavy imported)."""
    export_p = sub.add_parser(
        "export",
        help="anonymous figures per closed month (CSV/JSON/XLSX/HTML)",
        description="Figures of whole calendar months that are over (the current month is "
        "published once it ends). Default: the last 12 closed months, like the dashboard.",
    )
    export_p.add_argument(
        "--from", dest="first", type=month, metavar="YYYY-MM", help="first month (included)"
    )
    export_p.add_argument(
        "--to", dest="last", type=month, metavar="YYYY-MM", help="last month (included)"
    )
    export_p.add_argument(
        "--format", choices=FORMATS, help="default: from the --output suffix, else csv"
    )
    export_p.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    dash = sub.add_parser("dashboard", help="serve the operator page (needs DASHBOARD_TOKEN)")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dash.add_argument("--port", type=int, default=8090, help="port to listen on")
