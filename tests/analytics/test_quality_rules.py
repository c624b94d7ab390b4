"""The quality rules: each flag at its bound, its severity steps and the numbers it gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from analytics import quality
from analytics.quality import Flag, flags
from analytics.strategy import DEFAULT_STRATEGY, default_strategy
from bot.crm.enums import FlagKind, SegmentTrait

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def fact(**values: Any) -> dict[str, Any]:
    """A calm conversation the bot handled alone; tests change what they judge."""
    return {
        "conversation_id": "c1",
        "customer_messages": 4,
        "fallback_messages": 0,
        "handed_off": False,
        "resolved": None,
        "handoff_at": None,
        "queue_wait_s": None,
        "sla_met": None,
        "first_response_s": None,
        "first_response_bh_s": None,
        "reply_times_s": None,
        "reply_times_bh_s": None,
        "csat_agent": None,
        "csat_bot": 5,
        "sentiment_last": 0.4,
        **values,
    }


def only(kind: FlagKind, **values: Any) -> Flag | None:
    found = [flag for flag in flags(fact(**values), NOW) if flag.kind == kind]
    return found[0] if found else None


def test_a_calm_contained_conversation_gets_no_flag() -> None:
    assert flags(fact(), NOW) == []
    assert flags(fact(sentiment_last=None, csat_bot=None), NOW) == []


@pytest.mark.parametrize(
    ("sentiment", "severity"),
    [(-0.3, None), (-0.31, 1), (-0.55, 1), (-0.56, 2), (-0.8, 2), (-0.81, 3), (-1.0, 3)],
)
def test_negative_end_grows_with_how_negative_the_last_message_was(
    sentiment: float, severity: int | None
) -> None:
    flag = only(FlagKind.NEGATIVE_END, sentiment_last=sentiment)
    assert (flag.severity if flag else None) == severity
    if flag:
        assert flag.detail == {"sentiment_last": sentiment, "threshold": -0.3}


@pytest.mark.parametrize(
    ("wait_minutes", "severity"), [(30, None), (31, 1), (59, 1), (60, 2), (119, 2), (120, 3)]
)
def test_long_wait_doubles_its_severity_with_the_wait(
    wait_minutes: int, severity: int | None
) -> None:
    flag = only(FlagKind.LONG_WAIT, handed_off=True, queue_wait_s=wait_minutes * 60.0)
    assert (flag.severity if flag else None) == severity


def test_a_missed_sla_is_a_long_wait_even_when_claimed_quickly() -> None:
    flag = only(FlagKind.LONG_WAIT, handed_off=True, queue_wait_s=120.0, sla_met=False)
    assert flag == Flag(
        FlagKind.LONG_WAIT, 1, {"queue_wait_s": 120.0, "bound_s": 1800.0, "sla_met": False}
    )
    assert only(FlagKind.LONG_WAIT, handed_off=True, queue_wait_s=120.0, sla_met=True) is None
    # Not judged yet (None) is not a miss.
    assert only(FlagKind.LONG_WAIT, handed_off=True, queue_wait_s=None, sla_met=None) is None


def test_the_wait_bound_is_the_longest_default_sla() -> None:
    longest = max(default_strategy([trait]).sla_minutes for trait in SegmentTrait)
    assert longest * 60 == quality.LONG_WAIT_S


@pytest.mark.parametrize(("fallbacks", "severity"), [(0, None), (1, None), (2, 1), (3, 2), (9, 3)])
def test_repeated_fallback_from_the_second(fallbacks: int, severity: int | None) -> None:
    flag = only(FlagKind.REPEATED_FALLBACK, fallback_messages=fallbacks)
    assert (flag.severity if flag else None) == severity
    if flag:
        assert flag.detail == {
            "fallback_messages": fallbacks,
            "customer_messages": 4,
            "threshold": 2,
        }


def test_low_csat_names_which_rating_was_low() -> None:
    assert only(FlagKind.LOW_CSAT, csat_bot=3) is None
    assert only(FlagKind.LOW_CSAT, csat_bot=2) == Flag(
        FlagKind.LOW_CSAT, 2, {"csat_bot": 2, "threshold": 2}
    )
    both = only(FlagKind.LOW_CSAT, csat_bot=2, csat_agent=1)
    assert both == Flag(FlagKind.LOW_CSAT, 3, {"csat_agent": 1, "csat_bot": 2, "threshold": 2})
    assert only(FlagKind.LOW_CSAT, csat_bot=None, csat_agent=4) is None


def test_an_unresolved_handoff_is_flagged_only_after_a_day() -> None:
    def judged(age: timedelta, resolved: bool | None = False) -> Flag | None:
        return only(
            FlagKind.UNRESOLVED_HANDOFF, handed_off=True, resolved=resolved, handoff_at=NOW - age
        )

    assert judged(timedelta(hours=23)) is None
    assert judged(timedelta(hours=24)) is None
    flag = judged(timedelta(hours=25))
    assert flag.severity == 1
    # When it was opened, not its age: the detail stays the same from one detection to the next.
    assert flag.detail == {"handoff_at": "2026-11-19T11:00:00Z", "bound_s": 24 * 3600.0}
    assert judged(timedelta(hours=47, minutes=59)).severity == 1
    assert judged(timedelta(days=2)).severity == 2
    assert judged(timedelta(days=4) - timedelta(seconds=1)).severity == 2
    assert judged(timedelta(days=4)).severity == 3
    assert judged(timedelta(days=9), resolved=True) is None
    assert (
        only(FlagKind.UNRESOLVED_HANDOFF, handed_off=False, handoff_at=NOW - timedelta(days=9))
        is None
    )


def test_the_flips_are_the_ages_where_the_unresolved_flag_changes() -> None:
    """The store re-judges a waiting handoff only when its age crosses one of these."""
    assert (
        timedelta(hours=24),
        timedelta(hours=48),
        timedelta(hours=96),
    ) == quality.UNRESOLVED_FLIPS
    opened = NOW - timedelta(days=30)
    seen = []
    for minutes in range(0, 5 * 24 * 60 + 1, 30):
        at = opened + timedelta(minutes=minutes)
        flag = quality.unresolved_handoff(
            fact(handed_off=True, resolved=False, handoff_at=opened), at
        )
        seen.append(flag and (flag.severity, flag.detail))
    changes = [timedelta(minutes=30 * i) for i in range(1, len(seen)) if seen[i] != seen[i - 1]]
    # Raised just past the bound (age > 24 h), then each step at exactly its age.
    assert changes == [timedelta(hours=24, minutes=30), timedelta(hours=48), timedelta(hours=96)]


def test_slow_agent_reply_reads_the_slowest_reply_in_business_hours() -> None:
    assert DEFAULT_STRATEGY.sla_minutes * 60 == quality.SLOW_REPLY_S
    assert (
        only(FlagKind.SLOW_AGENT_REPLY, first_response_bh_s=900.0, reply_times_bh_s=[60.0]) is None
    )
    late_first = only(
        FlagKind.SLOW_AGENT_REPLY,
        first_response_s=901.0,
        first_response_bh_s=901.0,
        reply_times_bh_s=[],
    )
    assert late_first == Flag(
        FlagKind.SLOW_AGENT_REPLY,
        1,
        {
            "slowest_reply_bh_s": 901.0,
            "first_response_bh_s": 901.0,
            "max_reply_bh_s": None,
            "first_response_s": 901.0,
            "bound_s": 900.0,
        },
    )
    late_reply = only(
        FlagKind.SLOW_AGENT_REPLY, first_response_bh_s=30.0, reply_times_bh_s=[20.0, 3700.0, None]
    )
    assert late_reply.severity == 3
    assert late_reply.detail["max_reply_bh_s"] == 3700.0
    assert only(FlagKind.SLOW_AGENT_REPLY, reply_times_bh_s=[1850.0]).severity == 2
    # Asked on Friday evening, answered on Monday morning: no agent was slow.
    overnight = only(
        FlagKind.SLOW_AGENT_REPLY,
        first_response_s=3 * 86400.0,
        first_response_bh_s=120.0,
        reply_times_s=[50000.0],
        reply_times_bh_s=[300.0],
    )
    assert overnight is None


def test_one_bad_conversation_gets_every_flag_it_deserves_once() -> None:
    bad = fact(
        handed_off=True,
        resolved=False,
        handoff_at=NOW - timedelta(days=3),
        queue_wait_s=7200.0,
        sla_met=False,
        first_response_s=7300.0,
        first_response_bh_s=7300.0,
        reply_times_bh_s=[100.0],
        fallback_messages=3,
        csat_bot=1,
        sentiment_last=-0.9,
    )
    kinds = [flag.kind for flag in flags(bad, NOW)]
    assert sorted(kinds) == sorted(FlagKind)
    assert all(1 <= flag.severity <= 3 for flag in flags(bad, NOW))
