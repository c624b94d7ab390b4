"""Business hours: parsing `CRM_BUSINESS_HOURS` and counting open seconds across nights,
weekends, summer time and long spans."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from analytics.business_hours import DEFAULT_BUSINESS_HOURS, BusinessHours
from bot.settings import load_settings

HOUR = 3600.0
LONDON = ZoneInfo("Europe/London")
DEFAULT = BusinessHours.parse(DEFAULT_BUSINESS_HOURS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_parse_reads_days_hours_and_zone() -> None:
    hours = BusinessHours.parse("Sun-Thu 08:30-16:00 Asia/Dubai")
    assert hours.weekdays == frozenset({6, 0, 1, 2, 3})
    assert (hours.opens.hour, hours.opens.minute, hours.closes.hour) == (8, 30, 16)
    assert BusinessHours.parse("mon,wed,Fri 09:00-12:00 UTC").weekdays == frozenset({0, 2, 4})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "not like 'Mon-Fri 09:00-17:00 Europe/London'"),
        ("Mon-Fri 9-17 Europe/London", "not like"),
        ("Mon-Fry 09:00-17:00 Europe/London", "'mon-fry' is not a day or day range"),
        ("Mon-Fri 17:00-09:00 Europe/London", "must close after it opens"),
        ("Mon-Fri 09:00-25:00 Europe/London", "25:00 is not a time of day"),
        ("Mon-Fri 09:00-17:00 Europe/Atlantis", "'Europe/Atlantis' is not an IANA time zone"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(spec)


def test_the_setting_is_checked_when_settings_load(tmp_path) -> None:
    env = {"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "k"}
    assert load_settings(env).business_hours == DEFAULT_BUSINESS_HOURS
    custom = "Mon-Sat 08:00-20:00 Europe/Paris"
    assert load_settings({**env, "CRM_BUSINESS_HOURS": custom}).business_hours == custom
    with pytest.raises(SystemExit, match="CRM_BUSINESS_HOURS: business hours 'always'"):
        load_settings({**env, "CRM_BUSINESS_HOURS": "always"})


def test_within_a_day_overnight_and_over_a_weekend() -> None:
    # Tue 17 Nov 2026 (London is on UTC in winter)
    assert DEFAULT.seconds(utc(2026, 11, 17, 10), utc(2026, 11, 17, 11, 30)) == 1.5 * HOUR
    assert DEFAULT.seconds(utc(2026, 11, 17, 7), utc(2026, 11, 17, 8)) == 0.0
    # Tue 16:00 -> Wed 10:00: one hour each side of the night
    assert DEFAULT.seconds(utc(2026, 11, 17, 16), utc(2026, 11, 18, 10)) == 2 * HOUR
    # Fri 16:00 -> Mon 10:00: the weekend does not count
    assert DEFAULT.seconds(utc(2026, 11, 20, 16), utc(2026, 11, 23, 10)) == 2 * HOUR
    assert DEFAULT.seconds(utc(2026, 11, 21, 10), utc(2026, 11, 22, 23)) == 0.0
    assert DEFAULT.seconds(utc(2026, 11, 18), utc(2026, 11, 17)) == 0.0


def test_summer_time_moves_the_window_in_utc() -> None:
    # Wed 17 Jun 2026: London is UTC+1, so 09:00-17:00 local is 08:00-16:00 UTC
    assert DEFAULT.seconds(utc(2026, 6, 17, 7), utc(2026, 6, 17, 9)) == 1 * HOUR
    assert DEFAULT.seconds(utc(2026, 6, 17, 15), utc(2026, 6, 17, 18)) == 1 * HOUR
    local = datetime(2026, 6, 17, 9, tzinfo=LONDON)
    assert DEFAULT.seconds(local, local + timedelta(hours=3)) == 3 * HOUR


def test_a_clock_change_inside_opening_hours_shortens_that_day() -> None:
    # New York springs forward at 02:00 on Sun 8 Mar 2026: a Sunday shift 00:00-06:00 is 5 h
    night = BusinessHours.parse("Sun 00:00-06:00 America/New_York")
    start = datetime(2026, 3, 8, tzinfo=ZoneInfo("America/New_York"))
    assert night.seconds(start, start + timedelta(days=1)) == 5 * HOUR
    # ...and over a long span the week holding it is counted day by day: 20 Sundays, one short
    year_start = datetime(2026, 1, 5, tzinfo=timezone.utc)  # a Monday
    assert night.seconds(year_start, year_start + timedelta(weeks=20)) == (20 * 6 - 1) * HOUR


def test_long_spans_count_whole_weeks() -> None:
    # 2026 has 261 weekdays; London's clock changes happen at night, so each is 8 h
    assert DEFAULT.seconds(utc(2026, 1, 1), utc(2027, 1, 1)) == 261 * 8 * HOUR
    # Wed 11 Nov 12:00 -> Fri 25 Dec 12:00 2026: the whole days between are 6 weeks from
    # Thu 12 Nov (30 weekdays) plus Thu 24 Dec; then 5 h on the Wednesday, 3 h on the Friday
    assert DEFAULT.seconds(utc(2026, 11, 11, 12), utc(2026, 12, 25, 12)) == (31 * 8 + 8) * HOUR


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        DEFAULT.seconds(datetime(2026, 1, 1), datetime(2026, 1, 2))
