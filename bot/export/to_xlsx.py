"""XLSX through openpyxl: one sheet per table, real numbers where a count is published.

Hidden counts are text (``<5``, ``x``) so a SUM in the spreadsheet cannot silently treat
them as zero; the first sheet says what the file holds and how counts were protected.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from bot.export.tables import Report, Table
from bot.export.to_csv import safe

BOLD = Font(bold=True)
RIGHT = Alignment(horizontal="right")


def sheet_name(table_id: str, used: set[str]) -> str:
    """Excel allows 31 characters and forbids ``[]:*?/\\``; keep names unique."""
    base = "".join("-" if c in "[]:*?/\\" else c for c in table_id)[:31]
    name, n = base, 2
    while name.lower() in used:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _fill(sheet: Worksheet, table: Table, k: int) -> None:
    sheet.append([table.title])
    sheet["A1"].font = BOLD
    sheet.append([table.label_header, *table.columns])
    for cell in sheet[2]:
        cell.font = BOLD
    rows = [*table.rows, table.total] if table.total else list(table.rows)
    for row in rows:
        values: list[str | int] = [safe(row.label)]
        # Hidden and partial counts stay text, so a SUM cannot take them as exact.
        values += [
            c.value if c.value is not None and not c.partial else c.display(k) for c in row.cells
        ]
        sheet.append(values)
        for cell in sheet[sheet.max_row][1:]:
            cell.alignment = RIGHT
    if table.total:
        for cell in sheet[sheet.max_row]:
            cell.font = BOLD
    sheet.column_dimensions["A"].width = max([14, *(len(r.label) + 2 for r in rows)])
    sheet.freeze_panes = "B3"


def to_xlsx(report: Report) -> bytes:
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "about"
    for line in (
        ["Relais export"],
        ["from (month)", report.first],
        ["to (month)", report.last],
        ["time zone", report.timezone],
        ["generated (UTC)", report.generated_at],
        ["smallest count shown (k)", report.k],
        [f"<{report.k}", f"a count under {report.k} (zero included), hidden"],
        ["x", "a count hidden so that a small one cannot be worked out from a total"],
        ["N+", "a sum over months leaving out the months where it was hidden: at least N"],
    ):
        about.append(line)
    about["A1"].font = BOLD
    about.column_dimensions["A"].width = 26
    used = {"about"}
    for table in report.tables:
        _fill(book.create_sheet(sheet_name(table.id, used)), table, report.k)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
