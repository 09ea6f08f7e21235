"""``relais``: the command line. Parses, then hands each command to the module doing it.

Settings are checked before any command runs (``bot.config.load_settings``, then
``bootstrap.preflight``): a wrong one is one line on stderr and exit code 2, never a
traceback, and no secret is ever printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import __version__, bootstrap
from bot.config import InsecureSecret, Settings, load_settings
from bot.dialogue.checks import check_catalog
from bot.errors import ConfigError, SettingsError
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
        # Only a person at a terminal can use the console; under systemd or CI, greeting
        # nobody and exiting 0 would hide a missing token.
        if not sys.stdin.isatty():
            raise SettingsError(
                [
                    "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in it "
                    "(environment or .env); `relais console` chats in a terminal without one"
                ]
            )
        print("No TELEGRAM_BOT_TOKEN set: starting the console chat instead (Ctrl-D to quit).\n")
        return asyncio.run(bootstrap.console(settings, None))
    return bootstrap.polling(settings, token)


def _read_from(settings: Settings) -> str:
    flows, texts = settings.flows_dir, settings.locales_dir
    return f"(flows from FLOWS_DIR={flows}, texts from LOCALES_DIR={texts})"


def _check(settings: Settings, max_age_days: int) -> int:
    try:
        catalog = bootstrap.catalog_from(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        errors = sum(1 for p in exc.problems if not p.warning)
        print(_read_from(settings))
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


DESCRIPTION = (
    "Relais: a Telegram bot that gets a young person harassed online to real help (3018) "
    "in under a minute. Settings come from the environment or .env (see .env.example)."
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="relais", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"relais {__version__}")
    sub = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="run the Telegram bot (polling); the console chat without a token, at a terminal",
        description="Run the Telegram bot. Without TELEGRAM_BOT_TOKEN, at a terminal, "
        "starts the console chat instead.",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates by webhook (WEBHOOK_* settings), for several replicas",
    )
    console = sub.add_parser(
        "console",
        help="chat with the bot in this terminal",
        description="The conversation in this terminal: type a choice's number or a command.",
    )
    console.add_argument("--lang", help="language code, e.g. en (default: DEFAULT_LOCALE)")
    check = sub.add_parser(
        "check",
        help="validate settings, flows, locales and resources",
        description="Check every setting, the database, flows, texts and help resources.",
    )
    check.add_argument(
        "--max-age",
        type=int,
        default=365,
        metavar="DAYS",
        help="warn when a resource was verified longer ago (default 365)",
    )
    sub.add_parser(
        "purge",
        help="delete statistics past retention and idle conversations (daily in run)",
        description="Delete what is past retention now (relais run does it once a day).",
    )
    graph = sub.add_parser(
        "graph",
        help="draw each flow as a map (one SVG file per flow)",
        description="Draw each flow: steps with their text, choices as arrows, end steps "
        "with their help resources, hand-overs to other flows. Opens offline in a browser.",
    )
    graph.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("flow-maps"),
        metavar="FOLDER",
        help="folder to write <flow>.svg into (default: flow-maps)",
    )
    graph.add_argument("--lang", default="fr", help="language of the texts (default: fr)")
    add_export_commands(sub)
    return p


# Libraries of the optional extras (pyproject.toml), by the extra that brings them: a
# deployment without one gets a line saying what to install, not a traceback.
OPTIONAL_MODULES = {
    "asyncpg": "postgres",
    "openpyxl": "export",
}


def _graph(settings: Settings, folder: Path, language: str) -> int:
    from bot.export.flowmap import flow_svg

    catalog = bootstrap.catalog_from(settings)
    if catalog.locales.find(language) is None:
        codes = ", ".join(catalog.locales.codes)
        raise SettingsError([f"--lang {language}: no such texts; languages: {codes}"])
    folder.mkdir(parents=True, exist_ok=True)
    for flow_id in sorted(catalog.flows):
        path = folder / f"{flow_id}.svg"
        path.write_text(flow_svg(catalog, flow_id, locale=language), "utf-8")
        print(path)
    return 0


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "check":
        return _check(settings, args.max_age)
    if args.command == "graph":  # reads the flows only: no database needed
        return _graph(settings, args.output, args.lang)
    bootstrap.preflight(settings)
    if args.command == "run":
        return _run(settings, args.webhook)
    if args.command == "console":
        return asyncio.run(bootstrap.console(settings, args.lang))
    if args.command == "purge":
        return asyncio.run(_purge(settings))
    if args.command == "export":
        return export_command(settings, args)
    if args.command == "dashboard":
        return dashboard_command(settings, args)
    return 2


def _bug(command: str) -> int:
    """Anything else is a bug: logged as its frames, through the filter that masks every
    secret (an exception's message or a request URL can carry the token)."""
    logging.getLogger("bot.cli").error("relais %s stopped on an error", command, exc_info=True)
    return 1


def _refuse(command: str, exc: SettingsError) -> int:
    """A wrong setting: one line each, exit code 2 (as argparse does for a wrong option)."""
    for line in exc.lines:
        print(f"relais {command}: {line}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.command is None:
        cli.print_help()
        return 0
    try:
        settings = load_settings()
        if args.command == "check":  # the database too: `check` is the operator's dry run
            bootstrap.preflight(settings)
    except SettingsError as exc:
        return _refuse(args.command, exc)
    setup_logging(
        settings.log_level,
        settings.token,
        *settings.secrets(),
        json_lines=settings.log_format == "json",
    )
    try:
        return _dispatch(settings, args)
    except SettingsError as exc:
        return _refuse(args.command, exc)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        print(_read_from(settings), file=sys.stderr)
        return 1
    except InsecureSecret as exc:
        print(f"relais {args.command}: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = OPTIONAL_MODULES.get(exc.name or "")  # exactly: a broken install is a bug
        if extra is None:
            return _bug(args.command)
        print(
            f"relais {args.command}: {exc.name} is missing, it comes with the '{extra}' extra: "
            f"pip install -e '.[{extra}]' (make install has every extra)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:
        return _bug(args.command)


if __name__ == "__main__":
    sys.exit(main())
