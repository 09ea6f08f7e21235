"""Nothing a person types is kept: a property test through the real path.

Hypothesis draws what a few teens type (random words the bot could never say itself,
alone or inside realistic sentences in several languages, crisis words included, as
free text, command arguments, photo captions, edited messages and group messages) and
the names and usernames Telegram attaches to them. Each example goes through the
``Dialogue`` service (real engine, real storage) and through the real python-telegram-bot
Application answered in-process by the fake Bot API, on SQLite and on PostgreSQL. Then
none of those words may appear in:

- any row of any table (read back with SQL, not through the storage code);
- the statistics as ``fetch_events`` returns them;
- the Prometheus metrics text;
- the log, with logging set up as ``relais`` does at ``LOG_LEVEL=DEBUG``.

Markers are 8+ letters from g-z (never inside a hex digest, and not found in any flow,
text or word list), so finding one anywhere means it was copied there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram.retry import RetryPolicy
from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.dialogue.conversation_cache import ConversationCache
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.domain.conversation import Command, Outcome, Press, Text
from bot.logs import LIBRARY_LEVELS, setup_logging
from bot.metrics import Metrics
from bot.storage import storage_from_url
from bot.storage.base import Storage
from tests.fakebotapi import FakeBotApi, SimulatedUser, builders
from tests.harness import EVER, App, relais_in_process

# What the bot itself says, reads or names (texts, flows, and its code: metric labels, log
# lines): a marker found in here is not a proof of a leak.
CORPUS = "\n".join(
    path.read_text(encoding="utf-8").lower()
    for folder, pattern in (("locales", "*.yaml"), ("flows", "*.yaml"), ("bot", "*.py"))
    for path in sorted((PROJECT_ROOT / folder).rglob(pattern))
)
LATIN = "ghijklmnopqrstuvwxyz"  # no a-f: a marker can never be part of a hex digest
CYRILLIC = "бгджзйлпфцчшщыэюя"
ARABIC = "ثجحخذزسشصضطظعغفقك"
MARKER = st.one_of(
    st.text(LATIN, min_size=8, max_size=14),
    st.text(CYRILLIC, min_size=8, max_size=12),
    st.text(ARABIC, min_size=8, max_size=12),
).filter(lambda word: word not in CORPUS)

# Realistic things to type; every one carries its markers in its first 50 characters.
SENTENCES = (
    "{a}",
    "{a} {b}",
    "je m'appelle {A} et j'habite à {B}",
    "{A} m'envoie des messages tous les soirs sur insta",
    "il a posté mes photos sur le compte @{a}, aide moi",
    "{a}@gmail.com c'est mon mail, mon num 06 12 34 56 78",
    "je veux mourir, {A} dit que tout le monde me déteste",
    "{A} and his friends keep posting about me on discord",
    "i want to kill myself {a}",
    "{a} يهددني كل يوم",
    "мене звати {a}, допоможіть",
    "/start {a}",
    "/aide {a} {b}",
    "/langue {a}",
    "/urgence {a}",
)
LANGUAGES = ("fr", "en", "es", "ar", "uk", None, "de")
NOW = dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC)
NOISY = tuple(LIBRARY_LEVELS)  # the library loggers setup_logging caps


@dataclass(frozen=True)
class Typed:
    """One thing a teen types, with the markers it carries."""

    text: str
    markers: tuple[str, ...]


@st.composite
def typed(draw: st.DrawFn) -> Typed:
    a, b = draw(MARKER), draw(MARKER)
    template = draw(st.sampled_from(SENTENCES))
    text = template.format(a=a, b=b, A=a.capitalize(), B=b.capitalize())
    return Typed(text, tuple(m for m in (a, b) if m in text.lower()))


@dataclass(frozen=True)
class Teen:
    """What one example's teen types and is called, and which buttons they press."""

    language: str | None
    first_name: str
    username: str
    texts: tuple[Typed, ...]
    presses: tuple[int, ...]

    @property
    def markers(self) -> set[str]:
        found = {self.first_name, self.username}
        return found | {m for t in self.texts for m in t.markers}


@st.composite
def teens(draw: st.DrawFn) -> Teen:
    texts = tuple(draw(st.lists(typed(), min_size=1, max_size=4)))
    return Teen(
        language=draw(st.sampled_from(LANGUAGES)),
        first_name=draw(MARKER).capitalize(),
        username=draw(st.text(LATIN, min_size=8, max_size=14).filter(lambda w: w not in CORPUS)),
        texts=texts,
        presses=tuple(draw(st.lists(st.integers(0, 20), min_size=len(texts) + 1))),
    )


# --------------------------------------------------------------------------- the rig


@dataclass(repr=False)
class Rig:
    """One backend, one bot, one log for the whole module (examples meet new people)."""

    loop: asyncio.AbstractEventLoop
    backend: str
    storage: Storage
    dump_tables: Any
    dialogue: Dialogue
    metrics: Metrics
    api: FakeBotApi
    app: App
    log: io.StringIO
    people: int = 0

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return f"Rig({self.backend})"

    def next_id(self) -> int:
        self.people += 1
        return 5_310_000 + self.people


async def dump_sqlite(path: Path) -> str:
    """Every row of every table, as text."""
    with closing(sqlite3.connect(path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            f"{table}: {row!r} {_decoded(row)}"
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
        )


async def dump_postgres(url: str) -> str:
    import asyncpg

    db = await asyncpg.connect(url)
    try:
        tables = await db.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        lines = []
        for (table,) in tables:
            for row in await db.fetch(f'SELECT * FROM "{table}"'):
                values = tuple(row.values())
                lines.append(f"{table}: {values!r} {_decoded(values)}")
        return "\n".join(lines)
    finally:
        await db.close()


def _decoded(row: tuple[Any, ...]) -> str:
    """Byte columns as text, so a marker stored as UTF-8 bytes is found too."""
    return " ".join(v.decode("utf-8", "replace") for v in row if isinstance(v, bytes | memoryview))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def rig(
    request: pytest.FixtureRequest, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    loop = asyncio.new_event_loop()
    schema: AbstractAsyncContextManager[str] | None = None
    if request.param == "postgres":
        from tests.pg import fresh_schema

        schema = fresh_schema()
        url = loop.run_until_complete(schema.__aenter__())

        def dump_tables() -> Any:
            return dump_postgres(url)
    else:
        path = tmp_path_factory.mktemp("typed") / "typed.sqlite3"
        url = f"sqlite:///{path}"

        def dump_tables() -> Any:
            return dump_sqlite(path)

    storage = storage_from_url(url)
    metrics = Metrics()
    dialogue = Dialogue(Engine(catalog), storage, metrics, cache=ConversationCache())
    api = FakeBotApi()
    # Logging exactly as `relais` sets it up at LOG_LEVEL=DEBUG, written to a buffer.
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in NOISY})
    setup_logging("DEBUG", api.token)
    log = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(log)
    fast = RetryPolicy(telegram=(0.01,), storage=(0.01,))
    running = relais_in_process(
        api, dialogue, retry=fast, messages_per_second=10_000, group_messages_per_minute=10_000
    )
    app = loop.run_until_complete(running.__aenter__())
    try:
        yield Rig(loop, request.param, storage, dump_tables, dialogue, metrics, api, app, log)
    finally:
        loop.run_until_complete(running.__aexit__(None, None, None))
        root.handlers[:], level, levels = saved
        root.setLevel(level)
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)
        if schema is not None:
            loop.run_until_complete(schema.__aexit__(None, None, None))
        loop.close()


# --------------------------------------------------------------------------- the paths


def first_buttons(outcome: Outcome) -> list[str]:
    return [b.data for reply in outcome.replies for row in reply.keyboard for b in row if b.data]


def event_for(text: str) -> Command | Text:
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return Command(name, args)
    return Text(text)


async def through_dialogue(rig: Rig, teen: Teen) -> None:
    """The service as every channel calls it, pressing a button after each typed text."""
    key, handle = f"typed-{rig.next_id()}", rig.dialogue.handle
    outcome = await handle(key, teen.language, Command("start"), NOW)
    for said, pick in zip(teen.texts, teen.presses, strict=False):
        outcome = await handle(key, teen.language, event_for(said.text), NOW)
        shown = first_buttons(outcome)
        if shown:
            outcome = await handle(key, teen.language, Press(shown[pick % len(shown)]), NOW)


async def through_telegram(rig: Rig, teen: Teen) -> None:
    """The Telegram channel: texts, a captioned photo, an edit, a group message."""
    user_id = rig.next_id()
    user = SimulatedUser(
        rig.api,
        user_id,
        language_code=teen.language,
        first_name=teen.first_name,
        username=teen.username,
        quiet=0.0,
    )
    await user.send("/start")
    for said, pick in zip(teen.texts, teen.presses, strict=False):
        await user.send(said.text)
        shown = [
            (m.message_id, str(b["callback_data"]))
            for m in user.messages
            for row in m.inline_keyboard
            for b in row
            if "callback_data" in b
        ]
        if shown:
            await user.press_data(*shown[pick % len(shown)])
    first = teen.texts[0].text
    await user.send_photo(caption=first)
    if user.last_sent_message_id is not None:
        await user.edit(user.last_sent_message_id, first)
    group = -(4_000_000 + user_id)
    for update in (
        builders.group_text(group, user_id, first),
        builders.group_command(group, user_id, "config", bot_username=rig.api.bot_username),
    ):
        await rig.api.dispatch(update)
    await rig.api.settle(quiet=0.0)


def haystacks(rig: Rig) -> dict[str, str]:
    async def read() -> dict[str, str]:
        await rig.storage.flush_sent()  # message ids are written in batches
        events = await rig.storage.fetch_events(*EVER)
        return {
            "a stored row": await rig.dump_tables(),
            "the statistics": repr(events),
            "the metrics": rig.metrics.render().decode(),
            "the log": rig.log.getvalue(),
        }

    return rig.loop.run_until_complete(read())


@settings(
    max_examples=40,
    deadline=None,
    database=None,  # the bot's state outlives examples: replays would not be the same
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(teen=teens())
def test_typed_words_and_names_are_never_stored_counted_or_logged(rig: Rig, teen: Teen) -> None:
    rig.log.seek(0)
    rig.log.truncate()  # this example's lines only (earlier ones were checked already)
    logging.getLogger("bot.probe").debug("an example starts")
    rig.loop.run_until_complete(through_dialogue(rig, teen))
    rig.loop.run_until_complete(through_telegram(rig, teen))
    assert "an example starts" in rig.log.getvalue(), "the log is not captured at DEBUG"
    leaks = {
        where: sorted(m for m in teen.markers if m.lower() in text.lower())
        for where, text in haystacks(rig).items()
    }
    assert not any(leaks.values()), f"typed words found ({rig.backend}): {leaks}"
