"""Quality flags in the store: detection from conversation facts, the review queue's order
and pages, and supervisors' verdicts (kept across detections)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count
from typing import Any

import pytest
from sqlalchemy import delete, insert

from analytics.quality import flags
from bot.crm.enums import (
    FlagKind,
    FlagStatus,
    InboxSource,
    InboxStatus,
    ReviewOutcome,
    Sender,
    StaffRole,
)
from bot.crm.models import Customer, Ticket
from bot.crm.models_supervision import ConversationFact
from bot.crm.store import Conflict, CRMStore, InvalidCursor, NotFound
from bot.crm.store.base import encode_cursor
from bot.crm.store.nlu_inbox import InboxStore
from bot.crm.store.quality import QualityStore
from bot.crm.store.records import MessageRecord

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
CUSTOMER = 7
_keys = count()


def say(store: CRMStore, conversation: str, sender: Sender, text: str, at: datetime) -> None:
    store.conversations.record_message(
        MessageRecord(
            conversation_id=conversation,
            event_key=f"q{next(_keys)}",
            seq=at.timestamp(),
            sender=sender,
            text=text,
            created_at=at,
            channel="web",
            customer_id=CUSTOMER if conversation == "bound" else None,
            intent="card_arrival" if sender == Sender.CUSTOMER else None,
            confidence=0.95 if sender == Sender.CUSTOMER else None,
        )
    )


def put_fact(store: CRMStore, conversation: str, computed_at: datetime, **values: Any) -> None:
    """A conversation's fact as the rollup writes it (delete + insert); calm unless told."""
    try:
        store.conversations.get(conversation)
    except NotFound:
        say(store, conversation, Sender.CUSTOMER, "where is my card", T0)
    row = {
        "conversation_id": conversation,
        "day": T0.date().isoformat(),
        "started_at": T0,
        "ended_at": T0 + timedelta(minutes=5),
        "customer_messages": 3,
        "fallback_messages": 0,
        "agent_messages": 0,
        "handed_off": False,
        "csat_bot": 5,
        "sentiment_last": 0.3,
        "computed_at": computed_at,
        **values,
    }
    with store.engine.begin() as connection:
        connection.execute(
            delete(ConversationFact).where(ConversationFact.conversation_id == conversation)
        )
        connection.execute(insert(ConversationFact.__table__), [row])


@pytest.fixture
def quality(store: CRMStore) -> QualityStore:
    with store.engine.begin() as connection:
        connection.execute(insert(Customer.__table__), [{"id": CUSTOMER, "name": "Ada Lovelace"}])
    return QualityStore(store.engine)


@pytest.fixture
def supervisor(store: CRMStore) -> int:
    return store.staff.create("super", "password-123", StaffRole.SUPERVISOR).id


def by_kind(quality: QualityStore, status: FlagStatus | None = None) -> dict[tuple[str, str], Any]:
    flags, _ = quality.list(status)
    return {(flag["conversation_id"], flag["kind"].value): flag for flag in flags}


def test_detection_raises_each_deserved_flag_once(store: CRMStore, quality: QualityStore) -> None:
    put_fact(store, "calm", T0)
    put_fact(store, "looping", T0, fallback_messages=3, sentiment_last=-0.6)
    put_fact(store, "rated", T0, csat_bot=1)
    now = T0 + timedelta(hours=1)
    assert quality.detect(now=now) == 3
    flags = by_kind(quality)
    assert set(flags) == {
        ("looping", "repeated_fallback"),
        ("looping", "negative_end"),
        ("rated", "low_csat"),
    }
    looping = flags[("looping", "repeated_fallback")]
    assert looping["severity"] == 2
    assert looping["detail"] == {"fallback_messages": 3, "customer_messages": 3, "threshold": 2}
    assert looping["status"] == FlagStatus.OPEN
    assert looping["created_at"] == "2026-11-20T10:00:00Z"
    assert looping["channel"] == "web"
    assert looping["started_at"] == "2026-11-20T09:00:00Z"
    assert quality.detect(now=now) == 0
    assert by_kind(quality) == flags


def test_a_refreshed_fact_updates_or_withdraws_open_flags(
    store: CRMStore, quality: QualityStore
) -> None:
    put_fact(store, "c1", T0, fallback_messages=2, csat_bot=2)
    quality.detect(now=T0)
    assert by_kind(quality)[("c1", "repeated_fallback")]["severity"] == 1
    put_fact(store, "c1", T0 + timedelta(hours=1), fallback_messages=4, csat_bot=5)
    assert quality.detect(now=T0 + timedelta(hours=1)) == 0
    flags = by_kind(quality)
    assert list(flags) == [("c1", "repeated_fallback")]
    assert flags[("c1", "repeated_fallback")]["severity"] == 3


def test_facts_from_before_the_watermark_are_not_judged_again(
    store: CRMStore, quality: QualityStore
) -> None:
    put_fact(store, "c1", T0 + timedelta(hours=2))
    quality.detect(now=T0 + timedelta(hours=2))
    # Stamped at or before the last one seen (not how the rollup writes: it stamps each
    # batch after the one before committed): skipped.
    put_fact(store, "c2", T0, csat_bot=1)
    put_fact(store, "c3", T0 + timedelta(hours=2), csat_bot=1)
    assert quality.detect(now=T0 + timedelta(hours=3)) == 0
    # Any later stamp is read.
    put_fact(store, "c4", T0 + timedelta(hours=2, microseconds=1), csat_bot=1)
    assert quality.detect(now=T0 + timedelta(hours=3)) == 1
    assert list(by_kind(quality)) == [("c4", "low_csat")]


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The conversations detection runs the rules on, in order."""
    seen: list[str] = []

    def spy(fact: dict[str, Any], now: datetime) -> list[Any]:
        seen.append(fact["conversation_id"])
        return flags(fact, now)

    monkeypatch.setattr("bot.crm.store.quality.flags", spy)
    return seen


def waiting(store: CRMStore, conversation: str, opened: datetime, **values: Any) -> None:
    values = {"resolved": False, "queue_wait_s": 60.0, **values}
    put_fact(store, conversation, T0, handed_off=True, handoff_at=opened, **values)


def test_a_detection_with_nothing_changed_judges_nothing(
    store: CRMStore, quality: QualityStore, judged: list[str]
) -> None:
    put_fact(store, "calm", T0)
    put_fact(store, "rated", T0, csat_bot=1)
    waiting(store, "young", T0)
    waiting(store, "old", T0 - timedelta(hours=30))
    assert quality.detect(now=T0 + timedelta(hours=1)) == 2
    assert sorted(judged) == ["calm", "old", "rated", "young"]
    flags_then = by_kind(quality)
    judged.clear()
    assert quality.detect(now=T0 + timedelta(hours=1)) == 0
    # Time passes without any handoff crossing a bound (young is 23 h, old 48 h - 1 s).
    assert quality.detect(now=T0 + timedelta(hours=18) - timedelta(seconds=1)) == 0
    assert judged == []
    assert by_kind(quality) == flags_then


def test_a_handoff_crossing_a_bound_between_detections_is_judged_alone(
    store: CRMStore, quality: QualityStore, judged: list[str]
) -> None:
    put_fact(store, "calm", T0)
    waiting(store, "waiting", T0)
    waiting(store, "later", T0 + timedelta(hours=10))
    waiting(store, "resolved", T0 - timedelta(days=9), resolved=True)
    assert quality.detect(now=T0 + timedelta(hours=2)) == 0
    judged.clear()
    # The fact did not change: the 24 h bound passed between the two detections.
    assert quality.detect(now=T0 + timedelta(hours=24, seconds=1)) == 1
    assert judged == ["waiting"]
    flag = by_kind(quality)[("waiting", "unresolved_handoff")]
    assert (flag["severity"], flag["detail"]) == (
        1,
        {"handoff_at": "2026-11-20T09:00:00Z", "bound_s": 24 * 3600.0},
    )
    assert flag["created_at"] == "2026-11-21T09:00:01Z"
    judged.clear()
    # Twice the bound: severity 2; "later" crosses its first bound in the same stretch.
    assert quality.detect(now=T0 + timedelta(hours=48, seconds=1)) == 1
    assert sorted(judged) == ["later", "waiting"]
    assert {key: flag["severity"] for key, flag in by_kind(quality).items()} == {
        ("waiting", "unresolved_handoff"): 2,
        ("later", "unresolved_handoff"): 1,
    }
    judged.clear()
    assert quality.detect(now=T0 + timedelta(hours=95)) == 0
    assert judged == ["later"]  # 85 h: twice its bound
    judged.clear()
    assert quality.detect(now=T0 + timedelta(hours=96, seconds=1)) == 0
    assert judged == ["waiting"]
    assert by_kind(quality)[("waiting", "unresolved_handoff")]["severity"] == 3
    # Back in time (a test clock): what was raised since is withdrawn again.
    judged.clear()
    quality.detect(now=T0 + timedelta(hours=20))
    assert sorted(judged) == ["later", "waiting"]
    assert by_kind(quality) == {}


def test_an_sla_falling_due_is_flagged_by_the_next_rollup(
    store: CRMStore, quality: QualityStore, judged: list[str]
) -> None:
    """The rules read a missed SLA from the fact, which the fact refresh judges again when
    the due time passes (the rollup refreshes facts before detecting): no rule reads due_at."""
    say(store, "queued", Sender.CUSTOMER, "I want a human", T0)
    put_fact(store, "calm", T0)
    with store.engine.begin() as connection:
        connection.execute(
            insert(Ticket.__table__),
            {"conversation_id": "queued", "kind": "handoff", "status": "open", "subject": "s",
             "text": "t", "packet": {"reason": "frustration"}, "created_at": T0,
             "due_at": T0 + timedelta(minutes=15)},
        )  # fmt: skip

    def roll_up(now: datetime) -> int:
        store.facts.refresh(now=now)
        return quality.detect(now=now)

    assert roll_up(T0 + timedelta(minutes=10)) == 0
    assert store.facts.refresh(now=T0 + timedelta(minutes=12)) == 0
    judged.clear()
    assert roll_up(T0 + timedelta(minutes=16)) == 1
    assert judged == ["queued"]
    flag = by_kind(quality)[("queued", "long_wait")]
    assert (flag["severity"], flag["detail"]["sla_met"]) == (1, False)
    judged.clear()
    assert quality.detect(now=T0 + timedelta(minutes=17)) == 0
    assert judged == []


def test_a_reviewed_flag_keeps_its_verdict_whatever_detection_finds(
    store: CRMStore, quality: QualityStore, supervisor: int
) -> None:
    put_fact(store, "c1", T0, csat_bot=2, fallback_messages=2)
    quality.detect(now=T0)
    flags = by_kind(quality)
    low = flags[("c1", "low_csat")]
    reviewed = quality.review(low["id"], supervisor, "  Customer upset by fees.  ", "no_issue")
    assert reviewed["status"] == FlagStatus.REVIEWED
    assert reviewed["note"] == "Customer upset by fees."
    assert reviewed["outcome"] == ReviewOutcome.NO_ISSUE
    assert (reviewed["reviewer_id"], reviewed["reviewer"]) == (supervisor, "super")
    assert reviewed["inbox_added"] == 0
    # The condition ends (rating changed), or worsens: the verdict stays as it was.
    put_fact(store, "c1", T0 + timedelta(hours=1), csat_bot=5, fallback_messages=2)
    quality.detect(now=T0 + timedelta(hours=1))
    put_fact(store, "c1", T0 + timedelta(hours=2), csat_bot=1, fallback_messages=2)
    quality.detect(now=T0 + timedelta(hours=2))
    [kept] = quality.list(FlagStatus.REVIEWED)[0]
    assert {key: kept[key] for key in ("id", "severity", "detail", "note", "outcome")} == {
        key: reviewed[key] for key in ("id", "severity", "detail", "note", "outcome")
    }
    assert [flag["kind"] for flag in quality.list(FlagStatus.OPEN)[0]] == [
        FlagKind.REPEATED_FALLBACK
    ]


def test_the_queue_is_most_severe_first_then_newest_in_pages(
    store: CRMStore, quality: QualityStore
) -> None:
    put_fact(store, "old-mild", T0, csat_bot=2)  # low_csat 2
    put_fact(store, "worst", T0, csat_bot=1)  # low_csat 3
    put_fact(store, "bound", T0, fallback_messages=2)  # repeated_fallback 1
    quality.detect(now=T0)
    put_fact(store, "new-mild", T0 + timedelta(hours=1), csat_bot=2)
    put_fact(store, "twin-mild", T0 + timedelta(hours=1), sentiment_last=-0.6)
    quality.detect(now=T0 + timedelta(hours=1))
    whole, cursor = quality.list(None)
    assert cursor is None
    order = [(flag["conversation_id"], flag["severity"]) for flag in whole]
    assert order[0] == ("worst", 3)
    assert {pair for pair in order[1:4]} == {("twin-mild", 2), ("new-mild", 2), ("old-mild", 2)}
    assert order[3] == ("old-mild", 2)
    assert order[4] == ("bound", 1)
    assert whole[4]["customer_id"] == CUSTOMER
    pages, cursor = [], None
    while True:
        page, cursor = quality.list(FlagStatus.OPEN, limit=2, cursor=cursor)
        pages.append([flag["id"] for flag in page])
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sum(pages, []) == [flag["id"] for flag in whole]
    assert [f["conversation_id"] for f in quality.list(None, kind="low_csat")[0]] == [
        "worst",
        "new-mild",
        "old-mild",
    ]
    assert quality.list(FlagStatus.REVIEWED) == ([], None)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        encode_cursor(T0, "4.1"),
        encode_cursor(T0, "2"),
        encode_cursor(T0, "2.x"),
        encode_cursor(T0, f"2.{2**40}"),
    ],
)
def test_bad_cursors_and_filters_are_refused(quality: QualityStore, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        quality.list(None, cursor=cursor)


def test_bad_filters_are_refused(quality: QualityStore) -> None:
    with pytest.raises(ValueError, match="status must be one of open, reviewed"):
        quality.list("closed")
    with pytest.raises(ValueError, match="kind must be one of"):
        quality.list(None, kind="rude")
    with pytest.raises(ValueError, match="limit"):
        quality.list(None, limit=0)
    with pytest.raises(ValueError, match="limit"):
        quality.list(None, limit=100_000)


def test_review_abuse_is_refused(store: CRMStore, quality: QualityStore, supervisor: int) -> None:
    put_fact(store, "c1", T0, csat_bot=1)
    quality.detect(now=T0)
    [flag] = quality.list(FlagStatus.OPEN)[0]
    with pytest.raises(NotFound):
        quality.review(999_999, supervisor, "", ReviewOutcome.NO_ISSUE)
    with pytest.raises(ValueError, match="outcome must be one of"):
        quality.review(flag["id"], supervisor, "", "fine")
    with pytest.raises(ValueError, match="longer than 2000"):
        quality.review(flag["id"], supervisor, "x" * 2001, ReviewOutcome.NO_ISSUE)
    with pytest.raises(ValueError, match="note must be text"):
        quality.review(flag["id"], supervisor, 42, ReviewOutcome.NO_ISSUE)  # type: ignore[arg-type]
    assert quality.list(FlagStatus.OPEN)[0] == [flag]
    done = quality.review(flag["id"], supervisor, "", ReviewOutcome.PROCESS_GAP)
    assert (done["note"], done["outcome"]) == (None, ReviewOutcome.PROCESS_GAP)
    with pytest.raises(Conflict, match="already reviewed"):
        quality.review(flag["id"], supervisor, "again", ReviewOutcome.NO_ISSUE)
    assert quality.list(FlagStatus.REVIEWED)[0][0]["outcome"] == ReviewOutcome.PROCESS_GAP


def test_a_bot_misunderstanding_sends_the_conversation_to_the_inbox(
    store: CRMStore, quality: QualityStore, supervisor: int
) -> None:
    say(store, "c1", Sender.CUSTOMER, "my card is stuck in the machine", T0)
    say(store, "c1", Sender.BOT, "Your card is on its way.", T0 + timedelta(seconds=1))
    say(store, "c1", Sender.CUSTOMER, "no! it is stuck", T0 + timedelta(seconds=2))
    say(store, "c1", Sender.AGENT, "I will help you.", T0 + timedelta(seconds=3))
    put_fact(store, "c1", T0, sentiment_last=-0.7)
    quality.detect(now=T0)
    [flag] = quality.list(FlagStatus.OPEN)[0]
    result = quality.review(flag["id"], supervisor, "Wrong intent", "bot_misunderstood")
    assert result["inbox_added"] == 1
    [group] = InboxStore(store.engine).groups(InboxStatus.OPEN)
    [item] = group["items"]
    assert (item["text"], item["source"]) == ("my card is stuck in the machine", InboxSource.REVIEW)
