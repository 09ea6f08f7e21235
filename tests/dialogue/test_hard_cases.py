"""The cases where a child is most at risk: sextortion at night, a child outside France,
a child who does not read French. Walked through the pure engine in every language."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content.catalog import MAIN_RESOURCE, Catalog
from bot.dialogue.engine import NAV_START, REMINDERS_OFF, REMINDERS_ON, Engine
from bot.dialogue.render import resource_line
from bot.domain.conversation import Command, Outcome, Press, Unsupported
from tests.conftest import PARIS
from tests.flowpaths import paths

NIGHT = dt.datetime(2026, 11, 30, 23, 40, tzinfo=PARIS)  # 3018 closed
# Advice that asks for screenshots in general: on the images path it could mean the picture.
SCREENSHOT_ADVICE = ("advice.evidence", "advice.evidence_adult", "advice.witness")


def walk(engine: Engine, locale: str, path: list[str], now: dt.datetime) -> Outcome:
    conv = engine.advance(engine.new_conversation(locale, "s1"), Command("start"), now).conversation
    outcome = None
    for data in path:
        outcome = engine.advance(conv, Press(data), now)
        conv = outcome.conversation
    assert outcome is not None
    return outcome


def images_paths(catalog: Catalog) -> list[list[str]]:
    """Every shortest way to each flow's help with 'intimate images' as the answer."""
    found: dict[str, list[str]] = {}
    for path in paths(catalog):
        flow = next((d.split(":")[0] for d in path if ":what:images" in d), None)
        if flow and flow not in found:
            found[flow] = path
    assert sorted(found) == ["adult", "victim", "witness"]
    return list(found.values())


@pytest.mark.parametrize("locale", ["fr", "en", "es", "ar", "uk"])
def test_sextortion_at_2340_shows_take_it_down_and_3114_before_3018(
    catalog: Catalog, engine: Engine, locale: str
) -> None:
    texts = catalog.locales
    for path in images_paths(catalog):
        help_text = walk(engine, locale, path, NIGHT).replies[-1].text
        takeitdown = help_text.find(resource_line(catalog, "ww-takeitdown", locale, NIGHT))
        line_3114 = help_text.find(resource_line(catalog, "fr-3114", locale, NIGHT))
        line_3018 = help_text.find(resource_line(catalog, MAIN_RESOURCE, locale, NIGHT))
        assert -1 < takeitdown < line_3114 < line_3018, (locale, path)
        assert "https://takeitdown.ncmec.org" in help_text
        for key in SCREENSHOT_ADVICE:
            assert texts.text(locale, key) not in help_text, (locale, path, key)


def test_sextortion_advice_keeps_its_order(catalog: Catalog) -> None:
    """Don't pay, stop answering, send nothing; evidence (never the picture); then block."""
    steps = {
        "advice.sextortion": (
            "ne paie pas",
            "arrête de répondre",
            "n'envoie plus rien",
            "garde des preuves",
            "jamais la photo",
            "puis bloque",
        ),
        "advice.adult_images": (
            "ne payez pas",
            "ne répondez plus",
            "gardez des preuves",
            "jamais l'image",
        ),
    }
    for key, words in steps.items():
        text = catalog.locales.text("fr", key).lower()
        where = [text.find(word) for word in words]
        assert where[0] > -1 and where == sorted(where), (key, where)


def test_photo_nudge_never_asks_to_keep_screenshots(catalog: Catalog, engine: Engine) -> None:
    for locale in catalog.locales.codes:
        conv = engine.new_conversation(locale, "s1")
        reply = engine.advance(conv, Unsupported("photo"), NIGHT).replies[0]
        assert reply.text == catalog.locales.text(locale, "nudge.photo")
    assert "capture" not in catalog.locales.text("fr", "nudge.photo")
    assert "screenshot" not in catalog.locales.text("en", "nudge.photo")


def country_paths(catalog: Catalog) -> dict[str, list[str]]:
    abroad = catalog.flows["abroad"].flow
    country = abroad.steps[abroad.start]
    return {
        choice.id: ["start:1:who:abroad", f"abroad:{abroad.version}:{abroad.start}:{choice.id}"]
        for choice in country.choices
    }


@pytest.mark.parametrize("locale", ["fr", "en", "es", "ar", "uk"])
def test_every_country_path_ends_in_that_countrys_lines(
    catalog: Catalog, engine: Engine, locale: str
) -> None:
    files_reached: set[str] = set()
    for choice, path in country_paths(catalog).items():
        outcome = walk(engine, locale, path, NIGHT)
        final = outcome.replies[-1]
        shown = [s.choice for s in outcome.stats if s.kind == "resource_shown"]
        countries = {catalog.resources.docs[rid].path.stem for rid in shown if rid}
        countries -= {"world", "europe"}
        # One country's own lines; "another country" gets the directory and 116 111.
        assert len(countries) == (0 if choice == "other" else 1), (choice, countries)
        files_reached |= countries
        for rid in shown:
            assert rid is not None
            assert resource_line(catalog, rid, locale, NIGHT) in final.text, (choice, rid)
        assert "ww-takeitdown" in shown
        assert MAIN_RESOURCE not in shown  # 3018 is not this child's line
        buttons = [b for row in final.keyboard for b in row]
        assert [b.data for b in buttons if b.data] and NAV_START in [b.data for b in buttons]
        assert not [b for b in buttons if b.copy == "3018"]
    every_country = {doc.path.stem for doc in catalog.resources.docs.values()}
    assert files_reached == every_country - {"france", "world", "europe"}


def test_ukraine_shows_no_unconfirmed_number(catalog: Catalog, engine: Engine) -> None:
    """La Strada's numbers are marked U in RESOURCES.md: the child is sent to the directory."""
    final = walk(engine, "uk", country_paths(catalog)["ua"], NIGHT).replies[-1].text
    assert "0 800 500 225" not in final and "116 111" not in final
    assert "https://childhelplineinternational.org" in final


FRANCE = {"fr": "France", "en": "France", "es": "Francia", "ar": "فرنسا", "uk": "Франці"}
PARIS_TIME = {"fr": "Paris", "en": "Paris", "es": "París", "ar": "باريس", "uk": "паризьк"}
IN_FRENCH = {"en": "French", "es": "francés", "ar": "بالفرنسية", "uk": "французькою"}


def test_french_lines_say_france_paris_time_and_french(catalog: Catalog) -> None:
    texts = catalog.locales
    for locale in catalog.locales.codes:
        for rid in catalog.resources.by_id:
            if rid.startswith("fr-"):
                assert FRANCE[locale] in texts.text(locale, f"resources.{rid}.name"), rid
        for rid in ("fr-3018", "fr-filsantejeunes"):
            assert PARIS_TIME[locale] in texts.text(locale, f"resources.{rid}.hours"), rid
        if locale != "fr":
            assert IN_FRENCH[locale] in texts.text(locale, "resources.fr-3018.name"), locale


def test_no_unsourced_promise_that_the_chat_answers_later(catalog: Catalog) -> None:
    for locale in catalog.locales.codes:
        meanwhile = catalog.locales.text(locale, "resources.fr-3018.meanwhile")
        assert "https://3018.fr" not in meanwhile, locale


def test_main_help_leads_with_3018_and_stays_short(catalog: Catalog, engine: Engine) -> None:
    """Outside the images path (which must first say what to do), 3018's line comes right
    after the first sentence, and the help message is 1,000 characters or fewer."""
    path = [
        "start:1:who:me",
        "victim:2:danger:no",
        "victim:2:what:insults",
        "victim:2:where:instagram",
        "victim:2:since:weeks",
    ]
    for locale in catalog.locales.codes:
        text = walk(engine, locale, path, NIGHT).replies[-1].text
        assert text.find(resource_line(catalog, MAIN_RESOURCE, locale, NIGHT)) < 100, locale
        assert len(text) <= 1000, (locale, len(text))


def harassment_words(catalog: Catalog, locale: str) -> set[str]:
    """Words of the answers to "what is happening?" in every flow (4 letters or more)."""
    words: set[str] = set()
    for loaded in catalog.flows.values():
        for step in loaded.flow.steps.values():
            if step.record == "harassment_kind":
                for choice in step.choices:
                    label = catalog.locales.text(locale, choice.label).lower()
                    words |= {w.strip("(),.«»") for w in label.split() if len(w) >= 4}
    return words


def test_reminder_first_line_says_nothing_about_harassment(
    catalog: Catalog, engine: Engine
) -> None:
    for locale in catalog.locales.codes:
        conv = walk(engine, locale, ["start:1:who:me"], NIGHT).conversation
        assert engine.waiting_for_answer(conv)
        first_line = engine.reminder(conv, NIGHT).text.split("\n")[0].lower()
        words = harassment_words(catalog, locale)
        assert len(words) > 8, locale
        said = {w.strip("(),.«»:!💙") for w in first_line.split()}
        assert not words & said, (locale, first_line)


def test_reminders_switched_off_by_command_or_privacy_button(
    catalog: Catalog, engine: Engine
) -> None:
    conv = walk(engine, "fr", ["start:1:who:me"], NIGHT).conversation
    privacy = engine.advance(conv, Command("confidentialite"), NIGHT).replies[0]
    assert [b.data for b in privacy.keyboard[0]] == [REMINDERS_OFF]
    off = engine.advance(conv, Press(REMINDERS_OFF), NIGHT)
    assert not off.conversation.reminders and not engine.waiting_for_answer(off.conversation)
    assert off.conversation.step == conv.step  # the conversation itself goes on
    assert [b.data for b in off.replies[0].keyboard[0]] == [REMINDERS_ON]
    state = engine.advance(off.conversation, Command("rappels"), NIGHT).replies[0]
    assert state.text == catalog.locales.text("fr", "command.reminders_off")
    on = engine.advance(off.conversation, Press(REMINDERS_ON), NIGHT)
    assert on.conversation.reminders and engine.waiting_for_answer(on.conversation)
