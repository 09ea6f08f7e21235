"""Each format read back by the tool its readers use: csv (as Excel/LibreOffice would
parse it), jsonschema against docs/export-schema-v2.json, openpyxl; and `relais export`
as an operator types it."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path

import jsonschema
import openpyxl
import pytest

from bot.cli import main
from bot.config import PROJECT_ROOT
from bot.domain.months import Month
from bot.export import render
from bot.export.queries import build_report
from bot.export.tables import Report
from bot.storage.sqlite import SqliteStorage
from tests.export_seed import PARIS, seed

SCHEMA = json.loads((PROJECT_ROOT / "docs" / "export-schema-v2.json").read_text("utf-8"))
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def report(sqlite_storage: SqliteStorage) -> Report:
    await seed(sqlite_storage)
    return await build_report(sqlite_storage, Month(2026, 1), Month(2026, 3), PARIS, now=NOW)


def csv_blocks(raw: bytes) -> dict[str, list[list[str]]]:
    """Table id -> its rows (header first), from the CSV as a spreadsheet reads it."""
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows[1:]:
        if row and row[0].startswith("# "):
            current = blocks.setdefault(row[0][2:], [])
        elif row and current is not None:
            current.append(row)
        else:
            current = None
    return blocks


async def test_csv_reads_back_cell_by_cell(report: Report) -> None:
    blocks = csv_blocks(render(report, "csv"))
    assert blocks["activity"] == [
        ["month", "started", "completed", "emergency", "group_crisis"],
        ["2026-01", "12", "8", "<5", "<5"],
        ["2026-02", "6", "6", "<5", "6"],
        ["2026-03", "<5", "<5", "<5", "<5"],
        ["total", "18+", "14+", "0+", "6+"],
    ]
    assert blocks["answers:platform"] == [
        ["choice", "conversations"],
        ["instagram", "6+"],  # February's 6; January's hidden (x), March's zero
        ["tiktok", "0+"],
        ["total", "18+"],
    ]
    assert blocks["funnel:victim"][0:2] == [["step", "conversations"], ["(started)", "18+"]]
    assert set(blocks) == {t.id for t in report.tables}


async def test_csv_has_no_comma_separated_reading(report: Report) -> None:
    """Read with ',' (what an English-locale Excel assumes) a row stays one cell: the file
    is meant for ';' readers, as documented, and never half-splits."""
    text = render(report, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=","))
    assert all(len(row) <= 1 for row in rows[1:])


async def test_json_follows_the_published_schema(report: Report) -> None:
    data = json.loads(render(report, "json"))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["schema_version"] == 2
    assert data["range"] == {"from": "2026-01", "to": "2026-03", "timezone": "Europe/Paris"}
    activity = next(t for t in data["tables"] if t["id"] == "activity")
    january = activity["rows"][0]["cells"]
    assert january[0] == {"value": 12, "hidden": None, "partial": False, "display": "12"}
    assert january[2] == {"value": None, "hidden": "small", "partial": False, "display": "<5"}
    platform = next(t for t in data["tables"] if t["id"] == "answers:platform")
    assert platform["rows"][0]["cells"][0] == {
        "value": 6,
        "hidden": None,
        "partial": True,
        "display": "6+",
    }


async def test_json_schema_rejects_a_leaked_hidden_value(report: Report) -> None:
    data = json.loads(render(report, "json"))
    data["tables"][0]["rows"][0]["cells"][2]["value"] = 2  # hidden, yet a value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


async def test_xlsx_reads_back_with_numbers_as_numbers(report: Report) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    assert book.sheetnames[0] == "about"
    assert {t.id.replace(":", "-") for t in report.tables} <= set(book.sheetnames)
    sheet = book["activity"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [
        ["month", "started", "completed", "emergency", "group_crisis"],
        ["2026-01", 12, 8, "<5", "<5"],
        ["2026-02", 6, 6, "<5", 6],
        ["2026-03", "<5", "<5", "<5", "<5"],
        ["total", "18+", "14+", "0+", "6+"],  # text: a SUM must not take "at least" as exact
    ]
    assert [[c.value for c in r] for r in book["answers-platform"].iter_rows(min_row=3)] == [
        ["instagram", "6+"],
        ["tiktok", "0+"],
        ["total", "18+"],
    ]


async def test_no_format_carries_a_session_or_a_user_key(report: Report) -> None:
    for fmt in ("csv", "json", "xlsx", "html"):
        body = render(report, fmt)
        if fmt == "xlsx":  # text lives in the zipped XML
            book = openpyxl.load_workbook(io.BytesIO(body))
            body = repr([[c.value for c in r] for s in book for r in s.iter_rows()]).encode()
        assert b"sess-" not in body and b"user-" not in body, fmt
        assert b"session" not in body, fmt


def test_relais_export_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    database = tmp_path / "relais.sqlite3"

    async def seeded() -> None:
        async with SqliteStorage(database) as storage:
            await seed(storage)

    asyncio.run(seeded())
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("EXPORT_K", "3")
    out = tmp_path / "figures.xlsx"
    args = ["export", "--from", "2026-01", "--to", "2026-03"]
    assert main([*args, "--output", str(out)]) == 0  # format from the suffix
    # en: 2 in January, under k=3 as every other month: nothing added up
    assert openpyxl.load_workbook(out)["locale"]["B3"].value == "0+"
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    assert data["k"] == 3 and data["range"] == {
        "from": "2026-01",
        "to": "2026-03",
        "timezone": "Europe/Paris",
    }
    assert main([*args, "--format", "csv"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"\xef\xbb\xbfRelais export;")
    backwards = ["export", "--from", "2026-03", "--to", "2026-01"]
    assert main(backwards) == 2
    assert b"before it starts" in capsysbinary.readouterr().err


def test_relais_export_defaults_to_the_last_twelve_closed_months(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'relais.sqlite3'}")
    assert main(["export", "--format", "json"]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    months = [row["label"] for row in data["tables"][0]["rows"]]
    assert len(months) == 12 and months[-1] == data["range"]["to"]


def test_relais_export_refuses_a_file_it_would_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'relais.sqlite3'}")
    assert main(["export", "-o", str(tmp_path / "x.pdf")]) == 2
    assert b".csv, .json, .xlsx, .html" in capsysbinary.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
