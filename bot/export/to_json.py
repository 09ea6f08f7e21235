"""JSON for dashboards, following ``docs/export-schema-v2.json`` (versioned).

Hidden cells have ``"value": null`` and say why (``"hidden": "small"`` or
``"complementary"``); a sum over months that leaves hidden months out has ``"partial":
true``; ``display`` is the text a person should see (``12``, ``<5``, ``x``, ``12+``).
A consumer that breaks on a new field should check ``schema_version`` first.
"""

from __future__ import annotations

import json
from typing import Any

from bot.export.tables import Cell, Report, Row, Table

SCHEMA_ID = "https://relais.invalid/schemas/export-v2.json"
SCHEMA_VERSION = 2


def _cell(cell: Cell, k: int) -> dict[str, Any]:
    return {
        "value": cell.value,
        "hidden": cell.hidden,
        "partial": cell.partial,
        "display": cell.display(k),
    }


def _row(row: Row, k: int) -> dict[str, Any]:
    return {"label": row.label, "cells": [_cell(c, k) for c in row.cells]}


def _table(table: Table, k: int) -> dict[str, Any]:
    return {
        "id": table.id,
        "title": table.title,
        "group": table.group or None,
        "label_header": table.label_header,
        "columns": list(table.columns),
        "rows": [_row(r, k) for r in table.rows],
        "total": _row(table.total, k) if table.total else None,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "generated_at": report.generated_at,
        "range": {
            "from": report.first,
            "to": report.last,
            "timezone": report.timezone,
        },
        "k": report.k,
        "tables": [_table(t, report.k) for t in report.tables],
    }


def to_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=2) + "\n"
