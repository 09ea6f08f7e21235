"""Opening hours: right at the edges, across DST changes, and worded per locale."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from bot.content.catalog import Catalog
from bot.content.resources import Hours, Resource
from bot.dialogue.render import help_line, open_status, resource_line
from tests.conftest import PARIS
from tests.texts import Texts

UTC = dt.UTC


def r3018(catalog: Catalog) -> Resource:
    return catalog.resources["fr-3018"]


def paris(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("hour", "minute", "is_open"),
    [(8, 59, False), (9, 0, True), (12, 0, True), (22, 59, True), (23, 0, False), (0, 0, False)],
)
def test_3018_is_open_from_9_to_23_to_the_minute(
    catalog: Catalog, hour: int, minute: int, is_open: bool
) -> None:
    status = r3018(catalog).status(paris(2026, 11, 30, hour, minute))
    assert status.is_open is is_open


def test_status_tells_when_3018_closes_and_next_opens(catalog: Catalog) -> None:
    at_open = r3018(catalog).status(paris(2026, 11, 30, 9, 0))
    assert at_open.closes_at == paris(2026, 11, 30, 23, 0)
    late = r3018(catalog).status(paris(2026, 11, 30, 23, 0))
    assert late.opens_at == paris(2026, 12, 1, 9, 0)
    early = r3018(catalog).status(paris(2026, 11, 30, 8, 59))
    assert early.opens_at == paris(2026, 11, 30, 9, 0)


def test_dst_spring_forward_day(catalog: Catalog) -> None:
    # 2026-03-29: clocks go 02:00 → 03:00 in Paris; 9:00 local is 07:00 UTC, not 08:00.
    just_before = dt.datetime(2026, 3, 29, 6, 59, tzinfo=UTC)
    at_nine = dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert not r3018(catalog).status(just_before).is_open
    assert r3018(catalog).status(at_nine).is_open
    assert r3018(catalog).status(just_before).opens_at == paris(2026, 3, 29, 9, 0)


def test_dst_fall_back_day(catalog: Catalog) -> None:
    # 2026-10-25: clocks go 03:00 → 02:00; 23:00 local is 22:00 UTC.
    assert r3018(catalog).status(dt.datetime(2026, 10, 25, 21, 59, tzinfo=UTC)).is_open
    assert not r3018(catalog).status(dt.datetime(2026, 10, 25, 22, 0, tzinfo=UTC)).is_open
    assert not r3018(catalog).status(dt.datetime(2026, 10, 25, 7, 59, tzinfo=UTC)).is_open
    assert r3018(catalog).status(dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC)).is_open


def test_always_open_and_overnight_hours() -> None:
    always = Resource(id="x", verified=dt.date(2026, 1, 1), source="test")
    assert always.status(paris(2026, 1, 1, 3)).always
    night = Resource(
        id="n",
        verified=dt.date(2026, 1, 1),
        source="test",
        hours=[Hours(days=["fri"], open="20:00", close="02:00")],
    )
    friday_late = paris(2026, 12, 4, 23, 30)  # a Friday
    status = night.status(friday_late)
    assert status.is_open and status.closes_at == paris(2026, 12, 5, 2, 0)
    assert not night.status(paris(2026, 12, 5, 2, 0)).is_open
    assert night.status(paris(2026, 12, 5, 2, 0)).opens_at == paris(2026, 12, 11, 20, 0)


def test_status_wording_per_locale(catalog: Catalog, fr: Texts) -> None:
    """Which text and which time and day: the time is formatted for the locale (Babel)."""
    resource = r3018(catalog)
    at = partial(open_status, catalog, resource)
    assert at("fr", paris(2026, 11, 30, 12)) == fr("status.open", time="23:00")
    tomorrow, today = fr("status.tomorrow"), fr("status.today")
    assert at("fr", paris(2026, 11, 30, 23, 30)) == fr("status.closed", day=tomorrow, time="09:00")
    assert at("fr", paris(2026, 11, 30, 7)) == fr("status.closed", day=today, time="09:00")
    en = Texts(catalog, "en")
    assert at("en", paris(2026, 11, 30, 12)) == en("status.open", time="11:00\u202fPM")


def test_lines_say_each_fact_once(catalog: Catalog, fr: Texts) -> None:
    """A child in danger reads these lines: no "24/7" twice, no status that goes stale."""
    night = paris(2026, 11, 30, 23, 30)
    hours_112 = fr("resources.fr-112.hours")
    assert resource_line(catalog, "fr-112", "fr", night).count(hours_112) == 1
    assert fr("status.always") not in resource_line(catalog, "fr-112", "fr", night)
    assert fr.said(help_line(catalog, "fr", night), "status.closed")
    pinned = help_line(catalog, "fr", None)  # a card that stays pinned for months
    assert fr("resources.fr-3018.hours") in pinned
    assert not fr.keys(pinned, "status.") and fr("resources.fr-3018.meanwhile") not in pinned


def test_arabic_lines_keep_spaced_numbers_left_to_right(catalog: Catalog) -> None:
    """On an Arabic line, "0 800 235 236" alone is drawn "236 235 800 0": a left-to-right
    mark right before every number that has a space keeps it in dialling order."""
    spaced = [r for r in catalog.resources.by_id.values() if r.phone and " " in r.phone]
    assert spaced  # Fil Santé Jeunes, Childline, ANAR, 116 111...
    for resource in spaced:
        line = resource_line(catalog, resource.id, "ar", None)
        assert f"\u200e{resource.phone}" in line, resource.id
    name_116111 = Texts(catalog, "ar")("resources.eu-116111.name")
    assert "\u200e116 111" in name_116111
