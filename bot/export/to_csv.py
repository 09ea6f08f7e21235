"""CSV that French Excel and LibreOffice open correctly, with no import dialog.

UTF-8 with a byte-order mark (without it Excel reads UTF-8 as Windows-1252 and accents
break), ``;`` as the delimiter (what Excel expects where the decimal mark is a comma, as in
France) and CRLF line ends. Each table is a block: its title line, a header line, its rows,
its total, then an empty line. Hidden counts read ``<5`` or ``x`` and stay text.
"""

from __future__ import annotations

import csv
import io

from bot.export.tables import Report

DELIMITER = ";"
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@")
SKIPPED = " \t\r\n"  # what a spreadsheet may skip before reading a formula


def safe(text: str) -> str:
    """Defuse a label a spreadsheet would run as a formula (none is expected: ids only),
    behind leading spaces, tabs or line breaks too; a leading tab or CR is itself one of
    the characters spreadsheets act on."""
    risky = text.lstrip(SKIPPED).startswith(FORMULA_START) or text[:1] in ("\t", "\r")
    return "'" + text if risky else text


def to_csv(report: Report) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(
        [
            "Relais export",
            f"months {report.first} to {report.last} ({report.timezone})",
            f"counts under {report.k} shown as <{report.k}; x = hidden to protect them",
            "N+ = sum of the months where it was shown (at least N)",
        ]
    )
    writer.writerow([])
    for table in report.tables:
        writer.writerow([f"# {table.id}", table.title])
        writer.writerow([table.label_header, *table.columns])
        rows = [*table.rows, table.total] if table.total else table.rows
        for row in rows:
            writer.writerow([safe(row.label), *(cell.display(report.k) for cell in row.cells)])
        writer.writerow([])
    return out.getvalue()
