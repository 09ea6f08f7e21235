"""Help resources (numbers, links, opening hours) and whether each is open right now.

The facts live in ``flows/resources/*.yaml`` with their source and verification date, so an
association volunteer can update a number or the hours without touching code. Hours are
kept in the resource's own time zone and the open/closed status is computed from an instant
passed in, which keeps it testable at the edges (08:59, 23:00) and across DST changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.content.yamlfile import YamlDocument, read_yaml
from bot.errors import ConfigError, Problem

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Url = Annotated[str, Field(pattern=r"^https://[^\s]+$")]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]


class Hours(BaseModel):
    """One opening rule: on these days, from ``open`` to ``close`` (``24:00`` = midnight)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Day] = Field(default_factory=lambda: list(DAYS), min_length=1)
    open: HHMM
    close: HHMM


class Resource(BaseModel):
    """A place a young person can turn to. Texts (name, hours, audience) are locale keys."""

    model_config = ConfigDict(extra="forbid")

    id: str
    phone: str | None = None
    sms: str | None = None
    url: Url | None = None
    chat: Url | None = None
    timezone: str = "Europe/Paris"
    hours: list[Hours] | None = Field(
        default=None, description="None means open at all hours, every day"
    )
    verified: dt.date
    source: str = Field(min_length=3)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def name_key(self) -> str:
        return f"resources.{self.id}.name"

    @property
    def hours_key(self) -> str:
        return f"resources.{self.id}.hours"

    def status(self, now: dt.datetime) -> OpenStatus:
        """Open or closed at ``now`` (an aware datetime), and when that changes."""
        if self.hours is None:
            return OpenStatus(is_open=True, always=True)
        local = now.astimezone(self.zone)
        intervals = sorted(self._intervals(local.date() - dt.timedelta(days=1), days=9))
        for start, end in intervals:
            if start <= now < end:
                # Merge with a following interval that starts when this one ends.
                for nxt_start, nxt_end in intervals:
                    if nxt_start == end:
                        end = nxt_end
                return OpenStatus(is_open=True, closes_at=end.astimezone(self.zone))
        upcoming = [start for start, _ in intervals if start > now]
        return OpenStatus(
            is_open=False, opens_at=min(upcoming).astimezone(self.zone) if upcoming else None
        )

    def _intervals(self, first: dt.date, days: int) -> list[tuple[dt.datetime, dt.datetime]]:
        """Concrete opening intervals (aware datetimes) for ``days`` local dates."""
        assert self.hours is not None
        zone = self.zone
        out: list[tuple[dt.datetime, dt.datetime]] = []
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            weekday = DAYS[day.weekday()]
            for rule in self.hours:
                if weekday not in rule.days:
                    continue
                start = _at(day, rule.open, zone)
                end = _at(day, rule.close, zone)
                if end <= start:  # closes after midnight
                    end = _at(day + dt.timedelta(days=1), rule.close, zone)
                out.append((start, end))
        return out


def _at(day: dt.date, hhmm: str, zone: ZoneInfo) -> dt.datetime:
    """The instant of local wall time ``hhmm`` on ``day``; ``24:00`` is the next midnight.

    A wall time that does not exist (DST spring gap) or exists twice (autumn) is resolved
    the way zoneinfo does with fold=0, then normalised through UTC so comparisons are exact.
    """
    hours, minutes = (int(part) for part in hhmm.split(":"))
    if hours == 24:
        day, hours = day + dt.timedelta(days=1), 0
    local = dt.datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone)
    return local.astimezone(dt.UTC)


@dataclass(frozen=True)
class OpenStatus:
    """Whether a resource answers now; ``closes_at``/``opens_at`` are in its own zone."""

    is_open: bool
    always: bool = False
    closes_at: dt.datetime | None = None
    opens_at: dt.datetime | None = None


@dataclass
class Resources:
    """Every known resource by id, with the document each came from (for error lines)."""

    by_id: dict[str, Resource]
    docs: dict[str, YamlDocument]

    def __getitem__(self, resource_id: str) -> Resource:
        return self.by_id[resource_id]

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self.by_id

    def stale(self, today: dt.date, max_age_days: int) -> list[Problem]:
        """Warnings for facts not re-verified for longer than ``max_age_days``."""
        problems = []
        for rid, resource in sorted(self.by_id.items()):
            age = (today - resource.verified).days
            if age > max_age_days:
                problems.append(
                    self.docs[rid].problem(
                        (rid, "verified"),
                        f"resource '{rid}': facts last verified {resource.verified} "
                        f"({age} days ago, limit {max_age_days}); check '{resource.source}'",
                        warning=True,
                    )
                )
        return problems


def load_resources(directory: Path) -> Resources:
    """Read every ``*.yaml`` in ``directory``: a mapping of resource id to its facts."""
    by_id: dict[str, Resource] = {}
    docs: dict[str, YamlDocument] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            doc = read_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(doc.data, Mapping):
            problems.append(doc.problem((), "a resources file maps resource ids to their facts"))
            continue
        for rid, facts in doc.data.items():
            if rid in by_id:
                problems.append(doc.problem((rid,), f"resource '{rid}' is defined twice"))
                continue
            if not isinstance(facts, Mapping):
                problems.append(doc.problem((rid,), f"resource '{rid}' must be a mapping"))
                continue
            try:
                by_id[rid] = Resource.model_validate({"id": rid, **facts})
                docs[rid] = doc
            except ValidationError as exc:
                for err in exc.errors():
                    loc = (rid, *err["loc"])
                    where = ".".join(str(p) for p in err["loc"])
                    msg = err["msg"].removeprefix("Value error, ")
                    problems.append(doc.problem(loc, f"resource '{rid}': {where}: {msg}"))
    if problems:
        raise ConfigError(problems)
    return Resources(by_id, docs)
