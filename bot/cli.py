"""``relais``: the command line. Parses, then hands each command to the module doing it.

relais run       the Telegram bot (polling); without a token, the console chat
relais run --webhook   one replica of a webhook deployment (see "Running at scale")
relais console   the conversation in this terminal
relais check     validate flows, locales and resources (for people editing them)
relais export    anonymous figures for operators (CSV, JSON, XLSX, HTML)
relais dashboard the same figures as a web page behind DASHBOARD_TOKEN
relais purge     delete statistics past retention and idle conversations
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot import bootstrap
from bot.config import InsecureSecret, Settings
from bot.dialogue.checks import check_catalog
from bot.errors import ConfigError
from bot.export.command import add_commands as add_export_commands
from bot.export.command import dashboard as dashboard_command
from bot.export.command import export as export_command
from bot.logs import setup_logging
from bot.storage import storage_from_url


def _run(settings: Settings, webhook: bool = False) -> int:
    if webhook:
        return bootstrap.webhook(settings)
    token = settings.token
    if not token:
        print("No TELEGRAM_BOT_TOKEN set: starting the console chat instead (Ctrl-D to quit).\n")
        return asyncio.run(bootstrap.console(settings, None))
    return bootstrap.polling(settings, token)


def _check(settings: Settings, max_age_days: int) -> int:
    try:
        catalog = bootstrap.catalog_from(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        errors = sum(1 for p in exc.problems if not p.warning)
        print(f"{errors} error(s): fix them and run `relais check` again.")
        return 1
    warnings = check_catalog(catalog, today=dt.date.today(), max_age_days=max_age_days)
    for problem in warnings:
        print(problem)
    flows = ", ".join(sorted(catalog.flows))
    print(
        f"OK: {len(catalog.flows)} flow(s) ({flows}), {len(catalog.locales.codes)} locale(s) "
        f"({', '.join(catalog.locales.codes)}), {len(catalog.resources.by_id)} resource(s), "
        f"{len(catalog.crisis)} crisis phrase(s)"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    return 0


async def _purge(settings: Settings) -> int:
    policy = settings.policy()
    now = dt.datetime.now(dt.UTC)
    async with storage_from_url(settings.database_url) as storage:
        await storage.close_months(ZoneInfo(policy.months_timezone), now)  # count, then delete
        events_before, idle_before = policy.purge_before(now)
        gone = await storage.purge(events_before=events_before, idle_before=idle_before, now=now)
    print(
        f"Purged {gone} row(s): statistics older than {policy.events_retention_days} days, "
        f"conversations idle for {policy.state_idle_hours} h, message ids past 48 h."
    )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="relais", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the Telegram bot (console chat without a token)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates by webhook (WEBHOOK_* settings), for several replicas",
    )
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--lang", help="language code, e.g. en (default: DEFAULT_LOCALE)")
    check = sub.add_parser("check", help="validate flows, locales and resources")
    check.add_argument(
        "--max-age",
        type=int,
        default=365,
        metavar="DAYS",
        help="warn when a resource was verified longer ago (default 365)",
    )
    sub.add_parser(
        "purge", help="delete statistics past retention and idle conversations (daily in run)"
    )
    add_export_commands(sub)
    return p


# Libraries of the optional extras (pyproject.toml), by the extra that brings them: a
# deployment without one gets a line saying what to install, not a traceback.
OPTIONAL_MODULES = {
    "asyncpg": "postgres",
    "openpyxl": "export",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level, settings.token, *settings.secrets())
    try:
        if args.command == "run":
            return _run(settings, args.webhook)
        if args.command == "console":
            return asyncio.run(bootstrap.console(settings, args.lang))
        if args.command == "check":
            return _check(settings, args.max_age)
        if args.command == "purge":
            return asyncio.run(_purge(settings))
        if args.command == "export":
            return export_command(settings, args)
        if args.command == "dashboard":
            return dashboard_command(settings, args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    except InsecureSecret as exc:
        print(f"relais {args.command}: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = OPTIONAL_MODULES.get(exc.name or "")  # exactly: a broken install is a bug
        if extra is None:
            raise
        print(
            f"relais {args.command}: {exc.name} is missing, it comes with the '{extra}' extra: "
            f"pip install -e '.[{extra}]' (make install has every extra)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
