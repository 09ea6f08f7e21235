"""The answers to typed words of crisis, decided by the pure engine: which numbers for
which danger, in which language, from which source of words, and the one safety line
that typed text which is not understood always gets.

The detector itself is measured elsewhere (``tests/content/test_crisis.py``,
``bench/crisis_eval.py``); here a stub stands in for it where a tier or a language must be
chosen, so these tests say what the answers are whatever the word lists hold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.content.catalog import EMERGENCY_RESOURCES, Catalog
from bot.content.flows import BACK, SKIP
from bot.dialogue.engine import NAV_RESUME, NAV_START, Engine
from bot.dialogue.group_service import GroupService
from bot.dialogue.group_texts import GroupTexts
from bot.dialogue.groups import (
    Claim,
    CountCrisis,
    DeleteCommand,
    Facts,
    GroupCommand,
    GroupRules,
    SaveSettings,
    Say,
)
from bot.dialogue.render import resource_line
from bot.domain.conversation import (
    Button,
    Command,
    Conversation,
    Event,
    Outcome,
    Press,
    Reply,
    Source,
    Stat,
    Text,
    Unsupported,
)
from bot.domain.crisis import CrisisHit, Tier
from bot.domain.group import deep_link, link_token, new_settings
from bot.metrics import Metrics
from bot.storage.sqlite import SqliteStorage
from tests.conftest import PARIS
from tests.harness import EVER

SHIPPED = ("fr", "en", "es", "ar", "uk")
# What each answer shows, in order, and the numbers it lets the child copy. Written out
# here rather than imported, so a change to the answers is a change to this test too.
SELF_IDS = ("fr-3114", "fr-112", "fr-15")
OTHERS_IDS = ("fr-17", "fr-112", "fr-114", "fr-3018", "fr-119")
COPIED = {Tier.SELF: ["3114", "112"], Tier.OTHERS: ["17", "112"]}
MARK = "zzcrisiszz"  # the stub detector's trigger: no ordinary message holds it


class StubDetector:
    """Answers ``hit`` for any text holding ``MARK``."""

    def __init__(self, hit: CrisisHit) -> None:
        self.hit = hit

    def detect(self, text: str) -> CrisisHit | None:
        return self.hit if MARK in text else None

    def __len__(self) -> int:
        return 1


def engine_with(catalog: Catalog, tier: Tier, locale: str | None = None) -> Engine:
    stub = StubDetector(CrisisHit(tier, locale))
    return Engine(dataclasses.replace(catalog, crisis=stub))


def in_flow(engine: Engine, now: dt.datetime, locale: str = "fr") -> Conversation:
    """At the first question of the victim flow."""
    conv = engine.advance(engine.new_conversation(locale, "s1"), Command("start"), now)
    return engine.advance(conv.conversation, Press("start:1:who:me"), now).conversation


def copies(reply: Reply) -> list[str]:
    return [b.copy for row in reply.keyboard for b in row if b.copy]


def lines_in_order(catalog: Catalog, text: str, ids: tuple[str, ...], locale: str) -> bool:
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)
    positions = [text.find(resource_line(catalog, rid, locale, now)) for rid in ids]
    return -1 not in positions and positions == sorted(positions)


def crisis_stats(outcome: Outcome) -> list[Stat]:
    return [s for s in outcome.stats if s.kind == "emergency_shown" and s.choice]


@pytest.mark.parametrize("locale", SHIPPED)
def test_self_tier_is_a_warm_line_then_3114_112_15_with_3114_and_112_to_copy(
    catalog: Catalog, noon: dt.datetime, locale: str
) -> None:
    engine = engine_with(catalog, Tier.SELF)
    conv = in_flow(engine, noon, locale)
    outcome = engine.advance(conv, Text(f"je {MARK}"), noon)
    first = outcome.replies[0]
    assert first.text.startswith(catalog.locales.text(locale, "crisis.self"))
    assert lines_in_order(catalog, first.text, SELF_IDS, locale)
    assert copies(first) == COPIED[Tier.SELF]
    assert first.keyboard[-1] == (
        Button(catalog.locales.text(locale, "button.resume"), NAV_RESUME),
    )
    assert len(outcome.replies) == 1  # the answer, and nothing that pushes it off screen
    assert outcome.conversation == conv  # nothing typed is kept; the place is kept


@pytest.mark.parametrize("locale", SHIPPED)
def test_others_tier_is_17_and_112_first_then_114_3018_119(
    catalog: Catalog, noon: dt.datetime, locale: str
) -> None:
    engine = engine_with(catalog, Tier.OTHERS)
    outcome = engine.advance(in_flow(engine, noon, locale), Text(MARK), noon)
    first = outcome.replies[0]
    assert first.text.startswith(catalog.locales.text(locale, "crisis.others"))
    assert lines_in_order(catalog, first.text, OTHERS_IDS, locale)
    assert copies(first) == COPIED[Tier.OTHERS]
    assert crisis_stats(outcome) == [
        Stat("emergency_shown", "victim", "danger", dimension="text", choice="others")
    ]


def test_the_two_tiers_say_different_things_in_every_language(catalog: Catalog) -> None:
    for locale in SHIPPED:
        texts = catalog.locales
        assert texts.text(locale, "crisis.self") != texts.text(locale, "crisis.others")
        assert "3114" in texts.text(locale, "crisis.safety")


def test_arabic_lines_start_with_an_arabic_letter(catalog: Catalog) -> None:
    """Telegram draws each line in the direction of its first letter (README)."""
    for key in ("crisis.self", "crisis.others", "crisis.safety", "crisis.copy"):
        for line in catalog.locales.text("ar", key, number="112").splitlines():
            first = next(c for c in line if c.isalpha())
            assert "\u0600" <= first <= "\u06ff", (key, line)


def test_answered_in_the_language_of_the_words_when_the_bot_speaks_it(
    catalog: Catalog, noon: dt.datetime
) -> None:
    arabic = engine_with(catalog, Tier.SELF, "ar")
    outcome = arabic.advance(in_flow(arabic, noon, "fr"), Text(MARK), noon)
    assert outcome.replies[0].text.startswith(catalog.locales.text("ar", "crisis.self"))
    assert outcome.replies[0].keyboard[-1][0].label == catalog.locales.text("ar", "button.resume")
    assert outcome.conversation.locale == "fr"  # the chat keeps its language
    german = engine_with(catalog, Tier.SELF, "de")  # not shipped: the chat's language
    outcome = german.advance(in_flow(german, noon, "en"), Text(MARK), noon)
    assert outcome.replies[0].text.startswith(catalog.locales.text("en", "crisis.self"))


@pytest.mark.parametrize(
    ("event", "source"),
    [
        (Text(MARK), Source.TEXT),
        (Text(MARK, edited=True), Source.EDITED),
        (Unsupported("photo", caption=MARK), Source.CAPTION),
        (Unsupported("video", caption=MARK), Source.CAPTION),
        (Command("aide", MARK), Source.COMMAND),
        (Command("stop", f"je {MARK}"), Source.COMMAND),
        (Command(MARK), Source.COMMAND),  # an unknown command is typed words too
        (Command("start", MARK), Source.START),
    ],
)
def test_every_source_of_words_is_read_and_answered_first(
    catalog: Catalog, noon: dt.datetime, event: Event, source: Source
) -> None:
    engine = engine_with(catalog, Tier.SELF)
    outcome = engine.advance(in_flow(engine, noon), event, noon)
    assert outcome.replies[0].text.startswith(catalog.locales.text("fr", "crisis.self"))
    assert [(s.dimension, s.choice) for s in crisis_stats(outcome)] == [(source, "self")]


def test_a_command_with_words_of_crisis_still_does_what_it_was_asked(
    catalog: Catalog, noon: dt.datetime
) -> None:
    engine = engine_with(catalog, Tier.SELF)
    fresh = engine.new_conversation("fr", "s2")
    outcome = engine.advance(fresh, Command("start", MARK), noon)
    assert outcome.replies[0].text.startswith(catalog.locales.text("fr", "crisis.self"))
    assert outcome.replies[0].keyboard[-1][0].data == NAV_START
    assert outcome.conversation.step == "who"  # then the welcome and the first question
    outcome = engine.advance(in_flow(engine, noon), Command("aide", MARK), noon)
    assert outcome.replies[1].text.startswith(catalog.locales.text("fr", "command.help"))


def test_a_group_token_after_start_is_not_read_as_words(
    catalog: Catalog, noon: dt.datetime
) -> None:
    class Everything(StubDetector):
        def detect(self, text: str) -> CrisisHit | None:
            return self.hit if text.strip() else None

    engine = Engine(dataclasses.replace(catalog, crisis=Everything(CrisisHit(Tier.SELF, None))))
    token = link_token("secret", -100123)
    outcome = engine.advance(engine.new_conversation("fr"), Command("start", token), noon)
    assert not crisis_stats(outcome)
    outcome = engine.advance(engine.new_conversation("fr"), Command("start", "a b"), noon)
    assert crisis_stats(outcome)


def test_an_edit_without_words_of_crisis_says_nothing(engine: Engine, noon: dt.datetime) -> None:
    conv = in_flow(engine, noon)
    outcome = engine.advance(conv, Text("finalement ça va", edited=True), noon)
    assert outcome.replies == () and outcome.stats == () and outcome.conversation == conv


def test_real_detector_answers_words_before_start_and_after_the_end(
    engine: Engine, catalog: Catalog, noon: dt.datetime
) -> None:
    """Today's word lists, through the real detector: nobody has to press /start first,
    and a conversation that is over still reads what is typed."""
    before = engine.advance(engine.new_conversation("fr"), Text("je veux mourir"), noon)
    assert crisis_stats(before)
    conv = in_flow(engine, noon)
    for step in ("danger", "what", "where", "since", "result", "age"):
        conv = engine.advance(conv, Press(f"victim:2:{step}:{SKIP}"), noon).conversation
    assert conv.step == "closing"
    after = engine.advance(conv, Text("je veux mourir"), noon)
    assert crisis_stats(after)
    assert after.replies[0].text.startswith(catalog.locales.text("fr", "crisis.self"))


# -- no brush-off -----------------------------------------------------------------------


@pytest.mark.parametrize("locale", SHIPPED)
def test_unrecognised_text_gets_the_buttons_one_safety_line_and_the_question(
    engine: Engine, catalog: Catalog, noon: dt.datetime, locale: str
) -> None:
    texts = catalog.locales
    safety = texts.text(locale, "crisis.safety")
    conv = in_flow(engine, noon, locale)
    outcome = engine.advance(conv, Text("qsdfgh"), noon)
    assert outcome.replies[0].text == texts.text(locale, "nudge.buttons") + "\n" + safety
    assert outcome.replies[-1].text == texts.text(locale, "victim.danger.question")
    assert outcome.replies[-1].keyboard[0][0].data == "victim:2:danger:yes"
    # One line, not the emergency block.
    assert not any(s.kind == "emergency_shown" for s in outcome.stats)
    assert resource_line(catalog, "fr-119", locale, noon) not in outcome.replies[0].text
    assert outcome.replies[0].text.count("\n") == 1
    for other in (
        engine.new_conversation(locale),  # before /start
        conv.with_(flow=None, step=None),  # after /stop
    ):
        first = engine.advance(other, Text("qsdfgh"), noon).replies[0]
        assert safety in first.text and first.keyboard[0][0].data == NAV_START
    assert safety in engine.advance(conv, Command("qsdfgh"), noon).replies[0].text
    caption = engine.advance(conv, Unsupported("photo", caption="regarde"), noon)
    assert safety in caption.replies[0].text
    assert safety not in engine.advance(conv, Unsupported("sticker"), noon).replies[0].text


# -- /urgence and the emergency step -------------------------------------------------------


def test_urgence_keeps_the_full_block_with_112_and_3114_to_copy(
    engine: Engine, catalog: Catalog, noon: dt.datetime
) -> None:
    outcome = engine.advance(in_flow(engine, noon), Command("urgence"), noon)
    reply = outcome.replies[0]
    assert reply.text.startswith(catalog.locales.text("fr", "emergency.text"))
    assert lines_in_order(catalog, reply.text, EMERGENCY_RESOURCES, "fr")
    assert copies(reply) == ["112", "3114"]
    assert reply.keyboard[-1][0].data == NAV_RESUME
    assert [s.choice for s in outcome.stats] == [None]  # not counted as typed words


@pytest.mark.parametrize("flow", ["victim", "witness", "adult"])
def test_pressing_on_after_the_emergency_numbers_sends_a_new_message(
    engine: Engine, noon: dt.datetime, flow: str
) -> None:
    conv = engine.new_conversation("fr", "s3")
    loaded = engine.catalog.flows[flow].flow
    conv = conv.with_(flow=flow, flow_version=loaded.version, step="danger", history=("x",))
    if loaded.start != "danger":
        conv = conv.with_(history=(loaded.start,))
    pressed = engine.advance(conv, Press(f"{flow}:{loaded.version}:danger:yes"), noon)
    assert pressed.conversation.step == "emergency"
    assert pressed.replies[-1].edit  # the question becomes the numbers
    on = engine.advance(
        pressed.conversation, Press(f"{flow}:{loaded.version}:emergency:continue"), noon
    )
    assert on.conversation.step == "what" and not any(r.edit for r in on.replies)
    back = engine.advance(
        pressed.conversation, Press(f"{flow}:{loaded.version}:emergency:{BACK}"), noon
    )
    assert back.conversation.step == "danger" and not any(r.edit for r in back.replies)


# -- the database is down -------------------------------------------------------------------


def test_while_the_database_is_down_words_of_crisis_are_answered_first(
    catalog: Catalog, noon: dt.datetime
) -> None:
    engine = engine_with(catalog, Tier.OTHERS, "en")
    night = dt.datetime(2026, 11, 30, 23, 30, tzinfo=PARIS)  # 3018 closed
    outcome = engine.unavailable("fr", Text(MARK), night)
    assert [r.text.split("\n")[0] for r in outcome.replies] == [
        catalog.locales.text("en", "crisis.others").split("\n")[0],
        catalog.locales.text("fr", "error.storage").split("\n")[0],
    ]
    assert copies(outcome.replies[0]) == COPIED[Tier.OTHERS]
    assert [(s.dimension, s.choice) for s in crisis_stats(outcome)] == [("text", "others")]
    calm = engine.unavailable("fr", Text("bonjour"), night)
    assert len(calm.replies) == 1 and not calm.stats
    assert calm.replies[0].text.startswith(catalog.locales.text("fr", "error.storage")[:20])
    assert engine.unavailable("fr", Text("bonjour", edited=True), night).replies == ()
    caption = engine.unavailable("en", Unsupported("photo", caption=MARK), night)
    assert len(caption.replies) == 2 and crisis_stats(caption)


# -- groups ------------------------------------------------------------------------------------


def test_a_group_command_with_words_of_crisis_is_answered_first_in_the_words_language(
    catalog: Catalog, noon: dt.datetime
) -> None:
    """A member (not an admin) types ``/config`` and words of danger from someone, in
    Arabic, in a French group: the answer for that danger comes first, in Arabic, with the
    numbers to copy and the private button; then the usual refusal; it is counted."""
    stub = dataclasses.replace(catalog, crisis=StubDetector(CrisisHit(Tier.OTHERS, "ar")))
    rules = GroupRules(GroupTexts(stub))
    settings = new_settings("secret", -4800, "fr")
    event = GroupCommand("config", topic=7, args=f"x {MARK}")
    actions = rules.decide(event, Facts(settings, bot_username="relais_bot"), noon)
    said = [a for a in actions if isinstance(a, Say)]
    assert said[0].text.startswith(catalog.locales.text("ar", "crisis.others"))
    assert said[0].topic == 7
    assert [b.copy for b in said[0].keyboard[0]] == COPIED[Tier.OTHERS]
    assert said[0].keyboard[1][0].url == deep_link("relais_bot", settings.token)
    assert said[1].text == catalog.locales.text("fr", "group.admins_only")
    assert CountCrisis(Tier.OTHERS) in actions
    quiet = rules.decide(GroupCommand("config", args="x"), Facts(settings), noon)
    assert not any(isinstance(a, CountCrisis) for a in quiet)
    # A late command from a group the bot was removed from: the danger is still answered.
    late = rules.decide(event, Facts(settings, known=False, removed=True), noon)
    assert [type(a) for a in late] == [Claim, Say, CountCrisis]


def stub_rules(catalog: Catalog, tier: Tier = Tier.SELF) -> GroupRules:
    return GroupRules(
        GroupTexts(dataclasses.replace(catalog, crisis=StubDetector(CrisisHit(tier, None))))
    )


def test_an_edited_group_command_answers_only_words_of_crisis_not_yet_answered(
    catalog: Catalog, noon: dt.datetime
) -> None:
    """What the command asked for was answered when it was sent: an edit brings only the
    answer to words of crisis, once per message and tier (the refusal of a member's
    /config, a second card, are not repeated), and the words leave a discreet group."""
    rules = stub_rules(catalog)
    settings = new_settings("secret", -4800, "fr")
    known = Facts(settings, bot_username="relais_bot")
    edit = GroupCommand("config", args=MARK, message_id=5, edited=True)
    actions = rules.decide(edit, known, noon)
    assert [type(a) for a in actions] == [Claim, Say, CountCrisis, DeleteCommand]
    assert actions[2] == CountCrisis(Tier.SELF, 5)
    assert (
        rules.decide(edit, dataclasses.replace(known, answered=frozenset({Tier.SELF})), noon) == []
    )
    assert rules.decide(dataclasses.replace(edit, args="merci"), known, noon) == []
    # In a group not yet stored, its settings are saved so the private button's link works.
    new = rules.decide(edit, dataclasses.replace(known, known=False), noon)
    assert [type(a) for a in new] == [Claim, SaveSettings, Say, CountCrisis, DeleteCommand]
    removed = rules.decide(edit, dataclasses.replace(known, known=False, removed=True), noon)
    assert [type(a) for a in removed] == [Claim, Say, CountCrisis]
    # A command sent with words of crisis: its answer names the message, for later edits.
    sent = rules.decide(GroupCommand("aide", args=MARK, message_id=6), known, noon)
    assert CountCrisis(Tier.SELF, 6) in sent


async def test_the_group_service_logs_each_answer_once_and_never_repeats_it_for_an_edit(
    catalog: Catalog, noon: dt.datetime, tmp_path: Path
) -> None:
    metrics = Metrics()
    async with SqliteStorage(tmp_path / "groups.sqlite3") as storage:
        service = GroupService(storage, stub_rules(catalog), "secret", observer=metrics)
        chat = -4800
        await service.handle(chat, GroupCommand("aide"), noon, update_id=1)  # now known
        sent = GroupCommand("aide", args=MARK, message_id=5)
        said = await service.handle(chat, sent, noon, update_id=2)
        assert [type(a) for a in said] == [Say, DeleteCommand]
        # Redelivered: claimed with the event, so neither said nor logged again.
        assert await service.handle(chat, sent, noon, update_id=2) == []
        edit = dataclasses.replace(sent, edited=True)
        assert await service.handle(chat, edit, noon, update_id=3) == []
        # The database down: an edit gets the answer alone (it asked for nothing else),
        # once; the service then remembers it was answered.
        other = GroupCommand("aide", args=MARK, message_id=7, edited=True)
        [answer] = service.unavailable(chat, other, noon)
        assert answer.text.startswith(catalog.locales.text("fr", "crisis.self"))
        assert service.unavailable(chat, other, noon) == []
        assert await service.handle(chat, other, noon, update_id=4) == []
        events = await storage.fetch_events(*EVER)
    assert [(e.kind, e.dimension, e.choice) for e in events] == [
        ("emergency_shown", "group", "self")
    ]
    assert metrics.value("relais_crisis_answers_total", tier="self", source="group") == 2
