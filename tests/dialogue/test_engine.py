"""The pure engine, without any bot: every path of the shipped flows and the rules that
keep a child from meeting a dead end."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.engine import NAV_RESUME, NAV_START, Engine, callback_data
from bot.dialogue.render import MAX_TEXT
from bot.domain.conversation import (
    COPY_TEXT_LIMIT,
    Command,
    Conversation,
    Press,
    Stat,
    Text,
    Unsupported,
)
from tests.conftest import PARIS
from tests.flowpaths import paths
from tests.texts import Texts


def start(engine: Engine, now: dt.datetime, locale: str = "fr") -> Conversation:
    """A conversation at the first question of the victim flow (menu: "it's me")."""
    return engine.advance(menu(engine, now, locale), Press("start:1:who:me"), now).conversation


def menu(engine: Engine, now: dt.datetime, locale: str = "fr") -> Conversation:
    outcome = engine.advance(engine.new_conversation(locale, "s1"), Command("start"), now)
    return outcome.conversation


def all_paths(catalog: Catalog) -> list[list[str]]:
    found = list(paths(catalog))
    assert len(found) > 100, "the shipped flows should offer many paths"
    return found


def test_every_path_ends_with_3018_and_fits_telegram(
    catalog: Catalog, engine: Engine, noon: dt.datetime
) -> None:
    for path in all_paths(catalog):
        for locale in catalog.locales.codes:
            conv = menu(engine, noon, locale)
            for data in path:
                outcome = engine.advance(conv, Press(data), noon)
                assert outcome.replies, f"no reply to {data}"
                assert not outcome.replies[0].text.startswith(
                    catalog.locales.text(locale, "nudge.stale")
                ), f"path {path} hit a stale button at {data}"
                conv = outcome.conversation
            final = outcome.replies[-1]
            kinds = [s.kind for s in outcome.stats]
            assert "flow_completed" in kinds, path
            if not any(data.startswith("abroad:") for data in path):  # abroad: test_hard_cases
                assert "3018" in final.text and "https://3018.fr" in final.text, path
            assert len(final.text) <= MAX_TEXT
            # No dead end: the final message still offers a way on.
            labels = [b.data for row in final.keyboard for b in row]
            assert NAV_START in labels
            for reply in outcome.replies:
                for row in reply.keyboard:
                    for button in row:
                        assert button.data is None or len(button.data.encode()) <= 64
                        # Shorter than Telegram's limit, so no summary was cut short.
                        assert button.copy is None or len(button.copy) < COPY_TEXT_LIMIT


def test_at_most_five_taps_to_help(catalog: Catalog, engine: Engine, noon: dt.datetime) -> None:
    """From /start, no path takes more than five taps to a message that shows help."""
    for path in all_paths(catalog):
        conv = menu(engine, noon)
        for taps, data in enumerate(path, start=1):
            outcome = engine.advance(conv, Press(data), noon)
            conv = outcome.conversation
            if any(s.kind == "resource_shown" for s in outcome.stats):
                assert taps <= 5, path
                break
        else:
            raise AssertionError(f"path without help: {path}")


def test_answers_recorded_are_choice_ids_only(
    catalog: Catalog, engine: Engine, noon: dt.datetime
) -> None:
    conv = start(engine, noon)
    for data in ("victim:2:danger:no", "victim:2:what:images", "victim:2:where:-"):
        conv = engine.advance(conv, Press(data), noon).conversation
    assert conv.answers == {
        "role": "me",
        "danger": "no",
        "harassment_kind": "images",
        "platform": "skipped",
    }
    conv = engine.advance(conv, Text("my name is Alice, 06 12 34 56 78"), noon).conversation
    assert "Alice" not in conv.to_json()


def test_back_returns_and_forgets_that_answer(engine: Engine, noon: dt.datetime) -> None:
    conv = start(engine, noon)
    conv = engine.advance(conv, Press("victim:2:danger:no"), noon).conversation
    conv = engine.advance(conv, Press("victim:2:what:threats"), noon).conversation
    assert conv.step == "where" and conv.answers["harassment_kind"] == "threats"
    outcome = engine.advance(conv, Press("victim:2:where:<"), noon)
    assert outcome.conversation.step == "what"
    assert "harassment_kind" not in outcome.conversation.answers
    assert outcome.replies[0].edit


def test_advice_is_exactly_what_the_answers_call_for(
    engine: Engine, noon: dt.datetime, fr: Texts
) -> None:
    conv = start(engine, noon)
    for data in ("victim:2:danger:no", "victim:2:what:images", "victim:2:where:whatsapp"):
        conv = engine.advance(conv, Press(data), noon).conversation
    text = engine.advance(conv, Press("victim:2:since:days"), noon).replies[-1].text
    # Images: the sextortion order, Take It Down and 3114, and no generic "screenshots"
    # (evidence, don't reply): they could mean the picture; WhatsApp: its reporting page;
    # days: not "long running".
    assert fr.keys(text, "advice.") == {
        "advice.sextortion",
        "advice.takeitdown",
        "advice.night",
        "advice.images_3018",
        "advice.platform.whatsapp",
        "advice.law",
        "advice.not_your_fault",
    }


def test_summary_for_3018_also_in_french(
    catalog: Catalog, engine: Engine, noon: dt.datetime, fr: Texts
) -> None:
    """3018's counsellors work in French: a teen writing in another language pastes their
    answers in both."""

    def summary(locale: str) -> str:
        conv = start(engine, noon, locale)
        for data in ("victim:2:danger:no", "victim:2:what:threats", "victim:2:where:discord"):
            conv = engine.advance(conv, Press(data), noon).conversation
        final = engine.advance(conv, Press("victim:2:since:months"), noon).replies[-1]
        copies = [b.copy for row in final.keyboard for b in row if b.copy]
        return copies[0]

    labels = ("victim.what.threats", "platform.discord", "victim.since.months")
    en = Texts(catalog, "en")
    in_english = en("summary.text", answers=" · ".join(en(k) for k in labels))
    in_french = " · ".join(fr(k) for k in labels)
    assert summary("en") == f"{in_english}\n🇫🇷 {in_french}"
    assert summary("fr") == fr("summary.text", answers=in_french)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "victim",
        "victim:2:danger",
        "victim:2:danger:maybe",
        "victim:2:what:insults",
        "other:1:danger:no",
        "lang:xx",
        "nav:nope",
        "💥" * 16,
        "victim:2:danger:no:extra",
    ],
)
def test_forged_or_stale_press_is_answered_calmly(
    engine: Engine, noon: dt.datetime, data: str, fr: Texts
) -> None:
    conv = start(engine, noon)
    outcome = engine.advance(conv, Press(data), noon)
    assert outcome.replies[0].text == fr("nudge.stale")
    assert outcome.conversation.step == "danger"
    assert outcome.replies[-1].keyboard, "the current question is shown again with buttons"


def test_text_and_stickers_show_the_question_again(engine: Engine, noon: dt.datetime) -> None:
    conv = start(engine, noon)
    for event in (Text("x" * 5000), Unsupported("sticker"), Unsupported("photo")):
        outcome = engine.advance(conv, event, noon)
        assert outcome.conversation == conv
        assert outcome.replies[-1].keyboard[0][0].data == "victim:2:danger:yes"


def test_crisis_words_answered_with_emergency_first(
    engine: Engine, noon: dt.datetime, fr: Texts
) -> None:
    conv = start(engine, noon)
    outcome = engine.advance(conv, Text("j'ai envie de mourir"), noon)
    assert fr.starts(outcome.replies[0].text, "crisis.self")
    assert "112" in outcome.replies[0].text and "3114" in outcome.replies[0].text
    assert [s.kind for s in outcome.stats] == ["emergency_shown"]
    assert outcome.replies[0].keyboard[-1][0].data == NAV_RESUME


def test_without_conversation_text_offers_start_and_3018(
    engine: Engine, noon: dt.datetime, fr: Texts
) -> None:
    outcome = engine.advance(engine.new_conversation("fr"), Text("salut"), noon)
    assert fr.starts(outcome.replies[0].text, "nudge.start")
    assert "3018" in outcome.replies[0].text
    assert outcome.replies[0].keyboard[0][0].data == NAV_START


def test_stop_then_old_button_is_stale(engine: Engine, noon: dt.datetime, fr: Texts) -> None:
    conv = start(engine, noon)
    conv = engine.advance(conv, Command("stop"), noon).conversation
    assert not conv.active
    outcome = engine.advance(conv, Press("victim:2:danger:no"), noon)
    assert outcome.replies[0].text == fr("nudge.stale")
    assert outcome.replies[-1].keyboard[0][0].data == NAV_START


def test_language_switch_and_unknown_command(
    catalog: Catalog, engine: Engine, noon: dt.datetime
) -> None:
    en = Texts(catalog, "en")
    conv = start(engine, noon)
    outcome = engine.advance(conv, Command("langue"), noon)
    assert {b.data for row in outcome.replies[0].keyboard for b in row} >= {"lang:fr", "lang:en"}
    outcome = engine.advance(conv, Press("lang:en"), noon)
    assert outcome.conversation.locale == "en"
    assert outcome.replies[-1].text == en("victim.danger.question")
    outcome = engine.advance(outcome.conversation, Command("frobnicate"), noon)
    assert en.starts(outcome.replies[0].text, "command.unknown")


def test_flow_version_change_keeps_place_or_apologises(
    catalog: Catalog, engine: Engine, noon: dt.datetime, fr: Texts
) -> None:
    conv = start(engine, noon)
    conv = engine.advance(conv, Press("victim:2:danger:no"), noon).conversation
    older = conv.with_(flow_version=0)
    outcome = engine.advance(older, Press("victim:2:what:insults"), noon)
    assert outcome.conversation.step == "where"  # the step still exists: carry on
    gone = conv.with_(flow_version=0, step="a-step-that-was-removed")
    outcome = engine.advance(gone, Command("aide"), noon)
    assert outcome.replies[0].text == fr("flow.updated")
    # Brought back to the nearest step of their path that still exists.
    assert outcome.conversation.step == "danger"
    assert "danger" not in outcome.conversation.answers
    lost = conv.with_(flow_version=0, step="removed", history=("also-removed",))
    outcome = engine.advance(lost, Command("aide"), noon)
    assert outcome.conversation.step == catalog.flows["victim"].flow.start


def test_danger_yes_leads_to_emergency_counting_the_answer_and_resources(
    engine: Engine, noon: dt.datetime
) -> None:
    conv = start(engine, noon)
    outcome = engine.advance(
        conv, Press(callback_data(engine.catalog.flows["victim"].flow, "danger", "yes")), noon
    )
    assert outcome.conversation.step == "emergency"
    assert {s.kind for s in outcome.stats} == {"step_answered", "resource_shown"}


def test_typed_text_adds_no_statistics_but_a_crisis_count(
    engine: Engine, noon: dt.datetime
) -> None:
    """What is typed is read, never counted: no statistic at all, or for crisis words the
    one ``emergency_shown`` with the step it came at, where the words came from and the
    tier (the property test in tests/system/test_typed_words_never_kept.py looks for the
    words everywhere)."""
    conv = start(engine, noon)
    assert engine.advance(conv, Text("il me harcèle sur insta"), noon).stats == ()
    crisis = engine.advance(conv, Text("je veux mourir"), noon)
    assert crisis.stats == (
        Stat("emergency_shown", flow="victim", step="danger", dimension="text", choice="self"),
    )


def test_privacy_and_forget_commands(engine: Engine, noon: dt.datetime, fr: Texts) -> None:
    conv = start(engine, noon)
    privacy = engine.advance(conv, Command("confidentialite"), noon)
    policy = engine.policy
    assert privacy.replies[0].text == fr(
        "command.privacy",
        idle_hours=policy.state_idle_hours,
        retention_days=policy.events_retention_days,
    ) + "\n" + fr("command.privacy_reminder")
    ask = engine.advance(conv, Command("oubli"), noon)
    assert not ask.forget
    assert [b.data for row in ask.replies[0].keyboard for b in row] == ["forget:yes", "forget:no"]
    kept = engine.advance(conv, Press("forget:no"), noon)
    assert not kept.forget and kept.conversation == conv
    gone = engine.advance(conv, Press("forget:yes"), noon)
    assert gone.forget and not gone.conversation.active and not gone.conversation.answers
    assert fr.starts(gone.replies[0].text, "command.forgotten")
    assert gone.erase_messages  # the chat's messages go first, while their ids are known
    assert "3018" in gone.replies[0].text
    erase = engine.advance(conv, Command("effacer"), noon)
    assert erase.erase_messages and erase.conversation == conv


def test_closed_3018_says_what_to_do_meanwhile(engine: Engine, fr: Texts) -> None:
    night = dt.datetime(2026, 11, 30, 23, 30, tzinfo=PARIS)
    outcome = engine.advance(engine.new_conversation("fr"), Command("start"), night)
    welcome = outcome.replies[0].text
    assert fr("status.closed", day=fr("status.tomorrow"), time="09:00") in welcome
    assert fr("resources.fr-3018.meanwhile") in welcome
