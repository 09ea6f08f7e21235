"""Logs: no level leaks a payload or a secret, and a failure says where it happened."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bot.channels.telegram.app import on_error
from bot.logs import LIBRARY_LEVELS, MASK, frames, setup_logging

TOKEN = "123456:ABCdefGhIJKlmnoPQRstuVWXyz0123456789"
WEBHOOK_SECRET = "webhook-Secret_0123456789abcdef"
TYPED = "je m'appelle Zoé, 06 12 34 56 78"  # what must never reach a log


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """Logging as ``relais`` sets it up at LOG_LEVEL=DEBUG, written to a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in LIBRARY_LEVELS})
    setup_logging("DEBUG", TOKEN, WEBHOOK_SECRET)
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], level, levels = saved
        root.setLevel(level)
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)


@pytest.mark.parametrize(
    "name", ["telegram.Bot", "telegram.ext.Application", "httpx", "httpcore", "aiohttp.access"]
)
def test_libraries_that_print_payloads_stay_at_warning_under_debug(
    output: io.StringIO, name: str
) -> None:
    library = logging.getLogger(name)
    library.debug("Calling Bot API endpoint `setWebhook` with parameters %s", {"text": TYPED})
    library.info("Update %s", {"text": TYPED})
    assert output.getvalue() == ""
    library.warning("something odd")
    assert "something odd" in output.getvalue()


def test_the_token_and_webhook_secret_are_masked_whatever_the_logger(output: io.StringIO) -> None:
    logging.getLogger("anything").warning("url https://api.telegram.org/bot%s/getMe", TOKEN)
    logging.getLogger("telegram.Bot").error("setWebhook(secret_token=%r)", WEBHOOK_SECRET)
    try:
        raise RuntimeError(f"refused {WEBHOOK_SECRET} for {TOKEN}")
    except RuntimeError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    text = output.getvalue()
    assert TOKEN not in text and WEBHOOK_SECRET not in text
    assert text.count(MASK) == 2


def fail_deep(card_number: str) -> None:
    secret_local = card_number * 2  # noqa: F841 - a local value that must not be logged
    raise ValueError(f"cannot parse {card_number}")


def failure() -> BaseException:
    try:
        try:
            fail_deep(TYPED)
        except ValueError as exc:
            raise KeyError(TYPED) from exc
    except KeyError as exc:
        return exc
    raise AssertionError("unreachable")


def test_frames_name_file_line_and_function_but_no_message() -> None:
    text = frames(failure())
    assert "builtins.ValueError" in text and "builtins.KeyError" in text
    assert "tests/system/test_logs.py:" in text
    assert " in fail_deep" in text and " in failure" in text
    assert TYPED not in text and "Zoé" not in text


async def test_a_failed_update_logs_its_frames_without_the_message(output: io.StringIO) -> None:
    context: Any = SimpleNamespace(error=failure())
    await on_error(object(), context)
    text = output.getvalue()
    assert "update failed: KeyError" in text
    assert " in fail_deep" in text  # where it broke, for the operator
    assert TYPED not in text and "cannot parse" not in text


def test_a_traceback_logged_by_anyone_is_reduced_to_frames(output: io.StringIO) -> None:
    try:
        fail_deep(TYPED)
    except ValueError:
        logging.getLogger("telegram.ext.Updater").exception("Exception happened while polling")
    text = output.getvalue()
    assert " in fail_deep" in text and "builtins.ValueError" in text
    assert TYPED not in text and "Traceback" not in text


def test_json_lines_are_one_object_each_masked_and_reduced_to_frames() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    setup_logging("INFO", TOKEN, WEBHOOK_SECRET, json_lines=True)
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        try:
            fail_deep(TOKEN)
        except ValueError:
            logging.getLogger("bot.bootstrap").exception("start failed with %s", TOKEN)
        logging.getLogger("bot").info("started")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = buffer.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("ERROR", "bot.bootstrap", f"start failed with {MASK}"),
        ("INFO", "bot", "started"),
    ]
    assert " in fail_deep" in entries[0]["traceback"]
    assert TOKEN not in buffer.getvalue() and "cannot parse" not in buffer.getvalue()
