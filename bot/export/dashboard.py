"""The operator page: the export's HTML and its CSV/JSON/XLSX downloads, behind a token.

Read-only and small on purpose: an aiohttp ``Application`` that any aiohttp server can
mount, so the webhook server can serve it beside Telegram's endpoint::

    from bot.export.dashboard import dashboard_app
    web_app.add_subapp("/dashboard/", dashboard_app(storage, token))

``relais dashboard`` runs it alone. Every request must carry the token from
``DASHBOARD_TOKEN``, as ``Authorization: Bearer <token>`` or ``?token=<token>``; anything
else gets a bare 401 and no data. Prefer the header: a token in a URL can end up in
browser history and in the access logs of proxies (ours, ``SafeAccessLogger``, never
logs query strings).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from bot.domain.months import Month
from bot.export import MEDIA_TYPES, Format, render
from bot.export.layout import Layout
from bot.export.periods import closed_range
from bot.export.queries import build_report
from bot.export.tables import Report
from bot.storage.base import Storage

log = logging.getLogger(__name__)
MAX_MONTHS = 60  # a bound on the work one request can ask for
Clock = Callable[[], dt.datetime]


class DashboardSettings:
    """What the dashboard needs besides storage; kept on the app under ``SETTINGS``."""

    def __init__(self, token: str, k: int, tz: ZoneInfo, layout: Layout, clock: Clock) -> None:
        self.token = token.encode()
        self.k, self.tz, self.layout, self.clock = k, tz, layout, clock


STORAGE = web.AppKey("storage", Storage)
SETTINGS = web.AppKey("dashboard", DashboardSettings)


class SafeAccessLogger(AbstractAccessLogger):
    """Access log without query strings, so a ``?token=`` never reaches a log file."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def _presented_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token", "")


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = request.app[SETTINGS].token
    # Undecodable header bytes arrive as surrogates: refused like any wrong token.
    presented = _presented_token(request).encode("utf-8", "surrogateescape")
    if not presented or not hmac.compare_digest(presented, expected):
        return web.Response(
            status=401,
            text="401: Unauthorized",
            headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
        )
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _range(request: web.Request) -> tuple[Month, Month]:
    """``from``/``to`` (months, ``2026-03``) from the query, cut to closed months; default
    the last 12 closed months. A bad value is a 400."""
    settings = request.app[SETTINGS]
    try:
        first, last = (
            Month.parse(request.query[name]) if request.query.get(name) else None
            for name in ("from", "to")
        )
        first, last = closed_range(first, last, settings.clock(), settings.tz)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"bad range: {exc}") from None
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise web.HTTPBadRequest(text=f"range too long: at most {MAX_MONTHS} months")
    return first, last


async def _report(request: web.Request) -> Report:
    first, last = _range(request)
    settings = request.app[SETTINGS]
    return await build_report(
        request.app[STORAGE],
        first,
        last,
        settings.tz,
        k=settings.k,
        layout=settings.layout,
        now=settings.clock(),
    )


def _query(report: Report, request: web.Request) -> dict[str, str]:
    query = {"from": report.first, "to": report.last}
    if "token" in request.query:  # came by link: links must carry it on
        query["token"] = request.query["token"]
    return query


async def page(request: web.Request) -> web.Response:
    """The HTML report, with download links and a date-range form."""
    report = await _report(request)
    settings = request.app[SETTINGS]
    query = urlencode(_query(report, request))
    downloads = {f.upper(): f"export.{f}?{query}" for f in ("csv", "json", "xlsx")}
    hidden = {"token": request.query["token"]} if "token" in request.query else {}
    from bot.export.to_html import to_html

    # Drawing charts takes a few hundred ms of CPU: keep it off the event loop that may
    # also be serving the bot.
    html = await asyncio.to_thread(
        to_html,
        report,
        settings.layout,
        downloads=downloads,
        form_action="",
        hidden_fields=hidden,
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    )
    return response


def _download(fmt: Format) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        report = await _report(request)
        body = await asyncio.to_thread(render, report, fmt)
        name = f"relais-{report.first}-{report.last}.{fmt}"
        return web.Response(
            body=body,
            headers={
                "Content-Type": MEDIA_TYPES[fmt],
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )

    handler.__doc__ = f"The report as {fmt.upper()}."
    return handler


def dashboard_app(
    storage: Storage,
    token: str,
    *,
    k: int = 5,
    tz: ZoneInfo | None = None,
    layout: Layout | None = None,
    clock: Clock | None = None,
) -> web.Application:
    """The operator page as an aiohttp app. ``storage`` must be open while it serves
    (its owner opens and closes it). Raises ``ValueError`` without a usable token."""
    if len(token) < 16:
        raise ValueError("DASHBOARD_TOKEN must be set, at least 16 characters")
    app = web.Application(middlewares=[_require_token])
    app[STORAGE] = storage
    app[SETTINGS] = DashboardSettings(
        token,
        k,
        tz or ZoneInfo("Europe/Paris"),
        layout or Layout(),
        clock or (lambda: dt.datetime.now(dt.UTC)),
    )
    app.router.add_get("/", page)
    downloads: tuple[Format, ...] = ("csv", "json", "xlsx")
    for fmt in downloads:
        app.router.add_get(f"/export.{fmt}", _download(fmt))
    return app
