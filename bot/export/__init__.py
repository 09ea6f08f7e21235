"""Operator export: anonymous figures per closed calendar month, small counts suppressed.

``bot.export.queries.build_report`` reads the monthly roll-ups (``Storage.close_months``,
``Storage.period_counts``), suppresses small counts month by month and adds months up;
``render`` writes the one report in any format. The dashboard
(``bot.export.dashboard``) serves the same report over HTTP behind a token.

This package's top level imports no third-party library, so ``bot/cli.py`` can declare
the commands without the ``export`` extra installed.
"""

from __future__ import annotations

from typing import Literal

from bot.export.layout import Layout, layout_from_catalog
from bot.export.tables import Report

Format = Literal["csv", "json", "xlsx", "html"]
FORMATS: tuple[Format, ...] = ("csv", "json", "xlsx", "html")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Format",
    "Layout",
    "Report",
    "layout_from_catalog",
    "render",
]


def render(report: Report, fmt: Format, layout: Layout | None = None) -> bytes:
    """The report as file contents. Writers are imported on demand: openpyxl takes a
    while to import and only the format asked for needs it."""
    if fmt == "csv":
        from bot.export.to_csv import to_csv

        return to_csv(report).encode("utf-8")
    if fmt == "json":
        from bot.export.to_json import to_json

        return to_json(report).encode("utf-8")
    if fmt == "xlsx":
        from bot.export.to_xlsx import to_xlsx

        return to_xlsx(report)
    from bot.export.to_html import to_html

    return to_html(report, layout).encode("utf-8")
