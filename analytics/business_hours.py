"""Business hours: when the team is at work, and how much of a span fell inside that time.

Response and handling times are shown in calendar and in business hours (as Zendesk and
Chatwoot do), so a question asked on Friday evening and answered on Monday morning does
not read as a 60-hour failure. The hours come from `CRM_BUSINESS_HOURS`, e.g.
`Mon-Fri 09:00-17:00 Europe/London`: the days, the daily window in local time, and the IANA
zone, so that the window follows summer time.

Why no library: `businesstimedelta` (the best known) last changed in 2019, depends on
`pytz` and walks the span day by day; `businesstime` and `businesshours` are older still.
This module needs only `zoneinfo` and counts whole weeks by arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_BUSINESS_HOURS = "Mon-Fri 09:00-17:00 Europe/London"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = timedelta(days=7)
SHORT_SPAN_DAYS = 14
"""Spans shorter than this are summed day by day; longer ones by whole weeks."""

_SPEC = re.compile(r"^\s*(\S+)\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s+(\S+)\s*$")


@dataclass(frozen=True)
class BusinessHours:
    """Open on `weekdays` (0 = Monday) from `opens` to `closes`, local time in `zone`."""

    weekdays: frozenset[int]
    opens: time
    closes: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str) -> BusinessHours:
        """`DAYS HH:MM-HH:MM ZONE`; DAYS is a comma-separated list of days or day ranges
        (`Mon-Fri`, `Mon,Wed,Fri`, `Sun-Thu`). Raises ValueError saying what is wrong."""
        match = _SPEC.match(spec or "")
        if not match:
            raise ValueError(
                f"business hours {spec!r} are not like {DEFAULT_BUSINESS_HOURS!r} "
                "(days, HH:MM-HH:MM, time zone)"
            )
        days, open_h, open_m, close_h, close_m, zone_name = match.groups()
        opens = _clock(spec, int(open_h), int(open_m))
        closes = _clock(spec, int(close_h), int(close_m))
        if closes <= opens:
            raise ValueError(f"business hours {spec!r}: the day must close after it opens")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"business hours {spec!r}: {zone_name!r} is not an IANA time zone "
                "(like Europe/London)"
            ) from None
        return cls(_weekdays(spec, days), opens, closes, zone)

    def seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of business time between two aware datetimes (0 if `end` is not later).

        Each day's window is placed in the zone and converted to UTC, so a day on which the
        clocks change during opening hours is an hour shorter or longer.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("business hours need aware datetimes (with a time zone)")
        if end <= start:
            return 0.0
        first = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        if (last - first).days < SHORT_SPAN_DAYS:
            return self._days(first, last, start, end)
        head_end = first + timedelta(days=7 - first.weekday())  # the next Monday
        tail_start = last - timedelta(days=last.weekday())  # the Monday of the last week
        total = self._days(first, head_end - timedelta(days=1), start, end)
        total += self._days(tail_start, last, start, end)
        monday = head_end
        while monday < tail_start:
            total += self._whole_week(monday)
            monday += WEEK
        return total

    def _whole_week(self, monday: date) -> float:
        """A whole week's open seconds: nominal unless the UTC offset changes in the week."""
        next_monday = monday + WEEK
        if self._offset(monday) == self._offset(next_monday):
            return len(self.weekdays) * self._nominal_day
        return sum(self._window_seconds(monday + timedelta(days=n)) for n in range(7))

    @property
    def _nominal_day(self) -> float:
        return (
            datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)
        ).total_seconds()

    def _offset(self, day: date) -> timedelta | None:
        return datetime.combine(day, time(), tzinfo=self.zone).utcoffset()

    def _window(self, day: date) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(timezone.utc)
        closes = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(timezone.utc)
        return opens, closes

    def _window_seconds(self, day: date) -> float:
        if day.weekday() not in self.weekdays:
            return 0.0
        opens, closes = self._window(day)
        return (closes - opens).total_seconds()

    def _days(self, first: date, last: date, start: datetime, end: datetime) -> float:
        """Open seconds of the days `first`..`last` (local dates) that fall in [start, end)."""
        total = 0.0
        day = first
        while day <= last:
            if day.weekday() in self.weekdays:
                opens, closes = self._window(day)
                overlap = (min(closes, end) - max(opens, start)).total_seconds()
                total += max(overlap, 0.0)
            day += timedelta(days=1)
        return total


def _clock(spec: str, hour: int, minute: int) -> time:
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"business hours {spec!r}: {hour:02d}:{minute:02d} is not a time of day")
    return time(hour, minute)


def _weekdays(spec: str, days: str) -> frozenset[int]:
    chosen: set[int] = set()
    for part in days.lower().split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(
                f"business hours {spec!r}: {part!r} is not a day or day range "
                f"(days: {', '.join(name.title() for name in DAY_NAMES)})"
            )
        start = DAY_NAMES.index(first)
        stop = DAY_NAMES.index(last) if last else start
        chosen.update((start + n) % 7 for n in range((stop - start) % 7 + 1))
    return frozenset(chosen)
