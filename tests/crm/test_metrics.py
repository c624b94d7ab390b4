"""Every supervisor metric on a small hand-checked week, on SQLite and PostgreSQL.

The expected numbers are worked out by hand from the fixture below (the arithmetic is in
the comments), never computed by the code under test. Business hours are the default,
Mon-Fri 09:00-17:00 Europe/London, which is UTC in November.

The week, Mon 9 to Fri 13 November 2026 (NOW is Fri 20 November, 12:00; durable
containment judges conversations that ended by Fri 13, 12:00):

conv day   customer segment at start   channel  opening intent  customer msgs (fallback)
c1   11-09 1        Alpha              socketio check_balance   2 (0) contained, bot 5
c2   11-09 2        Beta               telegram card_lost       3 (1) handoff, frustration
c3   11-10 1        Alpha              socketio transfer_money  1 (0) handoff, customer_request
c4   11-10 -        none               telegram check_balance   2 (0) contained, anonymous
c9   11-11 4        none               socketio card_lost       5 (0) handoff, customer_request;
                                                                      rating reply + thanks after
c5   11-12 2        Alpha (changed)    socketio card_lost       1 (0) handoff, repeated_fallback;
                                                                      claimed, then released
c6   11-12 3        Beta (first, later) telegram unknown        3 (2) contained, bot 3 then 4
c10  11-12 5        none               telegram check_balance   2 (0) two handoffs: frustration,
                                                                      then customer_request
c7   11-13 3        Beta               socketio card_lost       2 (1) contained, bot 1; one
                                                                      message delivered late
c8   11-13 1        Alpha              telegram transfer_money  1 (0) handoff, customer_request,
                                                                      resolved < 7 days before NOW
c13  11-13 -        none               socketio check_balance   2 (0) contained, anonymous; starts
                                                                      23:30, ends 11-14 00:10
Outside the count: c0 (11-08, customer 4), c11 (11-11, no customer message) and c12 (11-12,
customer 4's widget opened with only the bot's greeting: not the customer coming back).

The fixture rolls up once, then a message of c7 stamped 11-13 14:00 is delivered late and
c5's claim is released (neither moves a time), and it rolls up again.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

import pytest
from sqlalchemy import insert, update

from bot.crm.models import (
    BotFeedback,
    Conversation,
    Customer,
    Message,
    Segment,
    SegmentAssignment,
    StaffUser,
    Ticket,
)
from bot.crm.store import CRMStore
from bot.crm.store.facts import FactStore
from bot.crm.store.metrics import LISTS, METRICS, MetricFilter, MetricStore
from bot.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
WEEK = MetricFilter(date(2026, 11, 9), date(2026, 11, 13))
ALPHA, BETA = 1, 2
AGENT = 1


def at(day: int, clock: str) -> datetime:
    hour, minute = clock.split(":")
    return datetime(2026, 11, day, int(hour), int(minute), tzinfo=timezone.utc)


# (sender, day, time, intent, sentiment)
MESSAGES: dict[str, list[tuple[str, int, str, str | None, float | None]]] = {
    "c0": [("customer", 8, "10:00", "check_balance", None), ("bot", 8, "10:01", None, None)],
    "c1": [
        ("customer", 9, "10:00", "greet", 0.5),
        ("customer", 9, "10:01", "check_balance", 0.1),
        ("bot", 9, "10:02", None, None),
    ],
    "c2": [
        ("customer", 9, "15:00", "card_lost", -0.4),
        ("customer", 9, "15:01", "nlu_fallback", -0.6),
        ("bot", 9, "15:01", None, None),
        ("agent", 9, "15:20", None, None),
        ("customer", 9, "15:25", "card_lost", -0.2),
        ("agent", 9, "15:40", None, None),
    ],
    "c3": [
        ("customer", 10, "16:30", "transfer_money", 0.0),
        ("bot", 10, "16:31", None, None),
        ("agent", 11, "09:30", None, None),
    ],
    "c4": [
        ("customer", 10, "12:00", "greet", None),
        ("customer", 10, "12:01", "check_balance", 0.5),
        ("bot", 10, "12:02", None, None),
    ],
    "c5": [("customer", 12, "09:00", "card_lost", -0.5), ("bot", 12, "09:01", None, None)],
    "c6": [
        ("customer", 12, "20:00", "greet", None),
        ("customer", 12, "20:01", "nlu_fallback", None),
        ("customer", 12, "20:02", "nlu_fallback", None),
        ("bot", 12, "20:03", None, None),
    ],
    "c7": [("customer", 13, "14:00", "card_lost", 0.2), ("bot", 13, "14:01", None, None)],
    "c8": [("customer", 13, "16:00", "transfer_money", -0.7)],
    "c9": [
        ("customer", 11, "11:00", "card_lost", 0.4),
        ("agent", 11, "11:10", None, None),
        ("customer", 11, "11:12", "card_lost", 0.0),
        ("customer", 11, "11:13", "thanks", None),
        ("agent", 11, "11:20", None, None),
        # after the resolution (11:30): the answer to the rating question, and thanks
        ("customer", 11, "11:31", "csat_score", None),
        ("customer", 11, "11:32", "thanks", None),
    ],
    "c10": [
        ("customer", 12, "10:00", "check_balance", None),
        ("bot", 12, "10:01", None, None),
        ("agent", 12, "10:10", None, None),  # answers the first handoff
        ("customer", 12, "10:30", "check_balance", None),
        ("agent", 12, "10:45", None, None),  # answers the second
    ],
    "c11": [("bot", 11, "08:00", None, None)],
    "c12": [("bot", 12, "10:00", None, None)],
    "c13": [
        ("customer", 13, "23:30", "greet", None),
        ("bot", 13, "23:30", None, None),
        ("customer", 14, "00:10", "check_balance", None),
        ("bot", 14, "00:10", None, None),
    ],
}
LATE = ("c7", 0.5, "customer", at(13, "14:00"), "nlu_fallback")
"""(conversation, seq, sender, time, intent) of the message delivered after the first roll-up."""
# conversation: (customer, channel, start, last message)
CONVERSATIONS = {
    "c0": (4, "socketio", at(8, "10:00"), at(8, "10:01")),
    "c1": (1, "socketio", at(9, "10:00"), at(9, "10:02")),
    "c2": (2, "telegram", at(9, "15:00"), at(9, "16:00")),
    "c3": (1, "socketio", at(10, "16:30"), at(11, "10:00")),
    "c4": (None, "telegram", at(10, "12:00"), at(10, "12:02")),
    "c5": (2, "socketio", at(12, "09:00"), at(12, "09:05")),
    "c6": (3, "telegram", at(12, "20:00"), at(12, "20:06")),
    "c7": (3, "socketio", at(13, "14:00"), at(13, "14:01")),
    "c8": (1, "telegram", at(13, "16:00"), at(13, "16:45")),
    "c9": (4, "socketio", at(11, "11:00"), at(11, "11:32")),
    "c10": (5, "telegram", at(12, "10:00"), at(12, "10:45")),
    "c11": (None, "socketio", at(11, "08:00"), at(11, "08:00")),
    "c12": (4, "socketio", at(12, "10:00"), at(12, "10:00")),
    "c13": (None, "socketio", at(13, "23:30"), at(14, "00:10")),
}


def handoff(conversation: str, reason: str, created: datetime, **fields: Any) -> dict[str, Any]:
    customer = CONVERSATIONS[conversation][0]
    status = (
        "resolved"
        if fields.get("resolved_at")
        else "claimed"
        if fields.get("claimed_at")
        else "open"
    )
    return {
        "conversation_id": conversation,
        "customer_id": customer,
        "kind": "handoff",
        "status": status,
        "subject": "Customer needs a person",
        "text": "help",
        "packet": {"reason": reason},
        "created_at": created,
        **fields,
    }


TICKETS = [
    handoff(
        "c2",
        "frustration",
        at(9, "15:02"),
        claimed_at=at(9, "15:10"),
        resolved_at=at(9, "16:00"),
        due_at=at(9, "15:30"),
        assigned_to=AGENT,
        csat=5,
        csat_at=at(9, "16:05"),
    ),
    handoff(
        "c3",
        "customer_request",
        at(10, "16:40"),
        claimed_at=at(10, "16:50"),
        resolved_at=at(11, "10:00"),
        due_at=at(10, "17:10"),
        assigned_to=AGENT,
    ),
    # claimed at 09:10, released after the first roll-up (status open, no claim)
    handoff(
        "c5",
        "repeated_fallback",
        at(12, "09:05"),
        due_at=at(12, "09:20"),
        claimed_at=at(12, "09:10"),
        assigned_to=AGENT,
    ),
    handoff(
        "c8",
        "customer_request",
        at(13, "16:30"),
        claimed_at=at(13, "16:45"),
        resolved_at=at(13, "17:00"),  # less than 7 days before NOW: reopen not judged yet
        due_at=datetime(2026, 11, 21, tzinfo=timezone.utc),  # never answered, due after NOW
        assigned_to=AGENT,
    ),
    # c10's first handoff, resolved; the customer writes again and a second one follows
    handoff(
        "c10",
        "frustration",
        at(12, "10:05"),
        claimed_at=at(12, "10:06"),
        resolved_at=at(12, "10:20"),
        due_at=at(12, "10:15"),
        assigned_to=AGENT,
    ),
    handoff(
        "c10",
        "customer_request",
        at(12, "10:35"),
        claimed_at=at(12, "10:40"),
        resolved_at=at(12, "11:00"),
        due_at=at(12, "10:50"),
        assigned_to=AGENT,
    ),
    handoff(
        "c9",
        "customer_request",
        at(11, "11:05"),
        claimed_at=at(11, "11:06"),
        resolved_at=at(11, "11:30"),
        assigned_to=AGENT,
        csat=3,
        csat_at=at(11, "11:31"),
    ),
    # Not a handoff: never counted as one.
    {
        "conversation_id": "c1",
        "customer_id": 1,
        "kind": "lost_card",
        "status": "open",
        "subject": "Lost card",
        "text": "lost",
        "created_at": at(9, "10:02"),
    },
]
# conversation: [(score, time)]; c2's rating is in a handed-off conversation: not the bot's.
BOT_RATINGS = {
    "c1": [(5, at(9, "10:02"))],
    "c2": [(2, at(9, "16:10"))],
    "c6": [(3, at(12, "20:05")), (4, at(12, "20:06"))],
    "c7": [(1, at(13, "14:01"))],
}


def build(store: CRMStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(StaffUser.__table__),
            [
                {
                    "id": AGENT,
                    "username": "ana",
                    "password_hash": "x",
                    "role": "agent",
                    "created_at": NOW,
                }
            ],
        )
        connection.execute(
            insert(Customer.__table__),
            [{"id": i, "name": f"C{i}", "created_at": at(1, "00:00")} for i in (1, 2, 3, 4, 5)],
        )
        connection.execute(
            insert(Segment.__table__),
            [
                {
                    "id": sid,
                    "name": name,
                    "description": name,
                    "method": "kmeans",
                    "profile": {},
                    "size": 1,
                    "created_at": at(1, "00:00"),
                }
                for sid, name in ((ALPHA, "Alpha"), (BETA, "Beta"))
            ],
        )
        connection.execute(
            insert(SegmentAssignment.__table__),
            [
                {
                    "customer_id": 1,
                    "segment_id": ALPHA,
                    "valid_from": at(1, "00:00"),
                    "valid_to": None,
                },
                {
                    "customer_id": 2,
                    "segment_id": BETA,
                    "valid_from": at(1, "00:00"),
                    "valid_to": at(12, "00:00"),
                },
                {
                    "customer_id": 2,
                    "segment_id": ALPHA,
                    "valid_from": at(12, "00:00"),
                    "valid_to": None,
                },
                {
                    "customer_id": 3,
                    "segment_id": BETA,
                    "valid_from": at(15, "00:00"),
                    "valid_to": None,
                },
            ],
        )
        connection.execute(
            insert(Conversation.__table__),
            [
                {
                    "id": cid,
                    "customer_id": customer,
                    "channel": channel,
                    "status": "bot",
                    "started_at": start,
                    "last_message_at": last,
                }
                for cid, (customer, channel, start, last) in CONVERSATIONS.items()
            ],
        )
        connection.execute(
            insert(Message.__table__),
            [
                {
                    "conversation_id": cid,
                    "event_key": f"{cid}-{seq}",
                    "seq": float(seq),
                    "sender": sender,
                    "text": "...",
                    "intent": intent,
                    "sentiment": sentiment,
                    "created_at": at(day, clock),
                }
                for cid, messages in MESSAGES.items()
                for seq, (sender, day, clock, intent, sentiment) in enumerate(messages)
            ],
        )
        for ticket in TICKETS:  # each names its own columns
            connection.execute(insert(Ticket.__table__), ticket)
        connection.execute(
            insert(BotFeedback.__table__),
            [
                {
                    "conversation_id": cid,
                    "customer_id": CONVERSATIONS[cid][0],
                    "score": score,
                    "rasa_message_id": f"{cid}-r{n}",
                    "created_at": when,
                }
                for cid, ratings in BOT_RATINGS.items()
                for n, (score, when) in enumerate(ratings)
            ],
        )


def deliver_late_and_release(store: CRMStore) -> None:
    """What the roll-up must see although no time moves past its watermark."""
    cid, seq, sender, when, intent = LATE
    with store.engine.begin() as connection:
        connection.execute(
            insert(Message.__table__),
            {"conversation_id": cid, "event_key": f"{cid}-late", "seq": seq, "sender": sender,
             "text": "...", "intent": intent, "created_at": when},
        )  # fmt: skip
        connection.execute(  # what HandoffStore.release writes
            update(Ticket)
            .where(Ticket.conversation_id == "c5")
            .values(status="open", assigned_to=None, claimed_at=None)
        )


@pytest.fixture
def metrics(store: CRMStore) -> MetricStore:
    build(store)
    facts = FactStore(store.engine)
    assert facts.refresh(now=NOW) == len(CONVERSATIONS)
    deliver_late_and_release(store)
    # c7 (a message written since, by id) and c5 (a live handoff), with their customers'
    # other conversations c6 and c2
    assert facts.refresh(now=NOW) == 4
    return MetricStore(store.engine)


EXPECTED_SUMMARY = {
    # c1-c10, c13; c0 is before the range, c11 and c12 have no customer message
    "conversations": 11,
    "unique_customers": 5,  # customers 1-5; c4 and c13 are anonymous
    "customer_messages": 24,  # c1 2, c2 3, c3 1, c4 2, c9 5, c5 1, c6 3, c10 2, c7 2, c8 1, c13 2
    "handoffs": 6,  # c2, c3, c5, c8, c9, c10 (c10 twice, counted once)
    "containment_rate": 5 / 11,  # c1, c4, c6, c7, c13
    "handoff_rate": 6 / 11,
    # judged (ended by 11-13 12:00): c1, c4, c6 (c7 ended 11-13 14:01, c13 11-14 00:10);
    # durable: c4 only (c1's customer came back in c3 the next day, c6's in c7 the next day)
    "durable_containment_rate": 1 / 3,
    "fallback_rate": 4 / 24,  # c2 one, c6 two, c7 one (the late message)
    # first responses (latest handoff): c2 15:02->15:20 1080, c3 16:40->09:30 next day 60600,
    # c9 11:05->11:10 300, c10 10:35->10:45 600 (not the first handoff's 10:10 reply)
    "median_first_response_s": 840.0,  # [300, 600, 1080, 60600]: (600 + 1080) / 2
    "p90_first_response_s": 42744.0,  # position 2.7: 1080 + 0.7 * (60600 - 1080)
    # business hours: c3 16:40-17:00 + 09:00-09:30 = 3000; c2, c9 and c10 within hours
    "median_first_response_bh_s": 840.0,  # [300, 600, 1080, 3000]
    "p90_first_response_bh_s": 2424.0,  # 1080 + 0.7 * 1920
    # reply times: c2 15:25->15:40 900; c9 11:12 (11:13 also waiting) -> 11:20 480, and its
    # 11:31/11:32 messages after the resolution got no agent reply; c10's 10:30 message came
    # before the second handoff
    "median_reply_time_s": 690.0,  # (480 + 900) / 2
    "p90_reply_time_s": 858.0,  # 480 + 0.9 * 420
    "median_reply_time_bh_s": 690.0,
    "p90_reply_time_bh_s": 858.0,
    # handling: c2 15:10->16:00 3000, c3 16:50->10:00 next day 61800, c9 11:06->11:30 1440,
    # c10 10:40->11:00 1200, c8 16:45->17:00 900
    "median_handle_time_s": 1440.0,  # [900, 1200, 1440, 3000, 61800]
    "p90_handle_time_s": 38280.0,  # position 3.6: 3000 + 0.6 * 58800
    # business hours: c3 16:50-17:00 600 + 09:00-10:00 3600 = 4200; the others within hours
    "median_handle_time_bh_s": 1440.0,  # [900, 1200, 1440, 3000, 4200]
    "p90_handle_time_bh_s": 3720.0,  # 3000 + 0.6 * 1200
    # queue waits: c2 480, c3 600, c8 900, c9 60, c10 10:35->10:40 300 (c5's claim was released)
    "median_queue_wait_s": 480.0,  # [60, 300, 480, 600, 900]
    "p90_queue_wait_s": 780.0,  # position 3.6: 600 + 0.6 * 300
    # judged: c2 met (15:20 <= 15:30), c3 missed (09:30 > 17:10), c5 missed (never, past due),
    # c10 met (10:45 <= 10:50); c8 unanswered and not yet due, c9 has no due time
    "sla_met_rate": 2 / 4,
    "csat_agent": 1 / 2,  # rated resolved: c2 (5), c9 (3)
    "csat_agent_response_rate": 2 / 5,  # resolved: c2, c3, c8, c9, c10
    "csat_bot": 2 / 3,  # contained rated: c1 5, c6 4 (latest), c7 1
    "csat_bot_response_rate": 3 / 5,  # c1, c6, c7 of c1, c4, c6, c7, c13
    # per conversation: c1 .3, c2 -.4, c3 0, c4 .5, c5 -.5, c7 .2, c8 -.7, c9 .2
    # (c6, c10, c13 none; the late message has none)
    "sentiment_mean": -0.4 / 8,
    # last scored: c1 .1, c2 -.2, c3 0, c4 .5, c5 -.5, c7 .2, c8 -.7, c9 0 (11:13 unscored)
    "sentiment_last": -0.6 / 8,
    # judged (resolved by 11-13 12:00): c2, c3, c9, c10; c8 (11-13 17:00) not yet.
    # c2: customer 2 came back in c5 (11-12); c3: customer 1 in c8 (11-13); c9: only the
    # rating answer and thanks after it, and c12 has no customer message; c10: nothing after
    "reopen_rate": 2 / 4,
    "resolution_rate": 5 / 6,  # c2, c3, c8, c9, c10 of c2, c3, c5, c8, c9, c10
}


def test_summary_has_every_metric_with_its_hand_checked_value(metrics: MetricStore) -> None:
    summary = metrics.summary(WEEK, now=NOW)
    assert set(summary) == set(METRICS) | {"intents", "handoff_reasons"}
    for name, expected in EXPECTED_SUMMARY.items():
        assert summary[name] == pytest.approx(expected, abs=1e-9), name
    assert set(EXPECTED_SUMMARY) == set(METRICS)
    # c1 greet+check_balance, c2 card_lost x2 + fallback, c3 transfer_money, c4 greet +
    # check_balance, c5 card_lost, c6 greet + fallback x2, c7 card_lost + fallback (late),
    # c8 transfer_money, c9 card_lost x2 + thanks x2 + csat_score, c10 check_balance x2,
    # c13 greet + check_balance
    assert summary["intents"] == [
        {"intent": "card_lost", "count": 6},  # c2 2, c5, c7, c9 2
        {"intent": "check_balance", "count": 5},  # c1, c4, c10 2, c13
        {"intent": "greet", "count": 4},  # c1, c4, c6, c13
        {"intent": "nlu_fallback", "count": 4},  # c2, c6 2, c7
        {"intent": "thanks", "count": 2},
        {"intent": "transfer_money", "count": 2},
        {"intent": "csat_score", "count": 1},
    ]
    assert summary["handoff_reasons"] == [
        {"reason": "customer_request", "count": 4},  # c3, c8, c9, c10 (its latest)
        {"reason": "frustration", "count": 1},
        {"reason": "repeated_fallback", "count": 1},
    ]


def test_filters_narrow_every_number(metrics: MetricStore) -> None:
    beta = metrics.summary(MetricFilter(WEEK.date_from, WEEK.date_to, segment_id=BETA), now=NOW)
    assert beta["conversations"] == 3  # c2, c6, c7
    assert beta["handoff_rate"] == pytest.approx(1 / 3)
    none = metrics.summary(MetricFilter(WEEK.date_from, WEEK.date_to, segment_id=0), now=NOW)
    assert none["conversations"] == 4  # c4, c9, c10, c13
    assert none["unique_customers"] == 2  # 4, 5
    card = metrics.summary(MetricFilter(WEEK.date_from, WEEK.date_to, intent="card_lost"), now=NOW)
    assert card["conversations"] == 4  # c2, c5, c7, c9
    assert card["intents"] == [
        {"intent": "card_lost", "count": 6},
        {"intent": "nlu_fallback", "count": 2},  # c2, c7
        {"intent": "thanks", "count": 2},  # c9
        {"intent": "csat_score", "count": 1},  # c9
    ]
    telegram = metrics.summary(
        MetricFilter(WEEK.date_from, WEEK.date_to, channel="telegram"), now=NOW
    )
    assert telegram["conversations"] == 5  # c2, c4, c6, c8, c10
    assert telegram["intents"] == [
        {"intent": "check_balance", "count": 3},  # c4 1, c10 2
        {"intent": "nlu_fallback", "count": 3},  # c2 1, c6 2
        {"intent": "card_lost", "count": 2},
        {"intent": "greet", "count": 2},
        {"intent": "transfer_money", "count": 1},
    ]
    assert telegram["median_first_response_s"] == 840.0  # c2 1080, c10 600


def test_timeseries_gives_every_day_of_the_range(metrics: MetricStore) -> None:
    wider = MetricFilter(date(2026, 11, 7), date(2026, 11, 14))
    series = metrics.timeseries("conversations", wider, now=NOW)
    assert [(p["day"], p["value"], p["n"]) for p in series] == [
        ("2026-11-07", 0, 0),
        ("2026-11-08", 1, 1),  # c0
        ("2026-11-09", 2, 2),
        ("2026-11-10", 2, 2),
        ("2026-11-11", 1, 1),  # c9 (c11 has no customer message)
        ("2026-11-12", 3, 3),  # c5, c6, c10 (c12 has no customer message)
        ("2026-11-13", 3, 3),  # c7, c8, c13 (started 23:30, ended on the 14th)
        ("2026-11-14", 0, 0),
    ]
    series = metrics.timeseries("median_first_response_s", WEEK, now=NOW)
    assert [(p["value"], p["n"]) for p in series] == [
        (1080.0, 1),  # c2
        (60600.0, 1),  # c3
        (300.0, 1),  # c9
        (600.0, 1),  # c10's latest handoff (c5 never answered)
        (None, 0),  # c8 never answered
    ]
    series = metrics.timeseries("durable_containment_rate", WEEK, now=NOW)
    assert [(p["value"], p["n"]) for p in series] == [
        (0.0, 1),  # c1 came back
        (1.0, 1),  # c4
        (None, 0),  # no contained conversation
        (0.0, 1),  # c6 came back
        (None, 0),  # c7 and c13 too young to judge
    ]
    series = metrics.timeseries("reopen_rate", WEEK, now=NOW)
    assert [(p["value"], p["n"]) for p in series] == [
        (1.0, 1),  # c2
        (1.0, 1),  # c3
        (0.0, 1),  # c9: the rating answer and thanks are not a reopen
        (0.0, 1),  # c10 (c5 unresolved)
        (None, 0),  # c8 resolved less than 7 days before NOW: not judged
    ]


def test_breakdowns_by_intent_segment_and_channel(metrics: MetricStore) -> None:
    by_intent = metrics.breakdown("conversations", "intent", WEEK, now=NOW)
    assert [(r["key"], r["value"], r["n"]) for r in by_intent] == [
        ("card_lost", 4, 4),  # c2, c5, c7, c9
        ("check_balance", 4, 4),  # c1, c4, c10, c13
        ("transfer_money", 2, 2),  # c3, c8
        ("unknown", 1, 1),  # c6: only small talk
    ]
    by_segment = metrics.breakdown("handoff_rate", "segment", WEEK, now=NOW)
    assert [(r["key"], r["label"], r["n"]) for r in by_segment] == [
        (0, "No segment", 4),  # c4, c9, c10, c13 (ties ordered by key)
        (ALPHA, "Alpha", 4),  # c1, c3, c5, c8
        (BETA, "Beta", 3),  # c2, c6, c7
    ]
    # handed off: c9, c10 of 4; c3, c5, c8 of 4; c2 of 3
    assert [r["value"] for r in by_segment] == pytest.approx([2 / 4, 3 / 4, 1 / 3])
    by_channel = metrics.breakdown("median_first_response_s", "channel", WEEK, now=NOW)
    assert [(r["key"], r["value"], r["n"]) for r in by_channel] == [
        ("socketio", 30450.0, 2),  # c3 60600, c9 300: (300 + 60600) / 2
        ("telegram", 840.0, 2),  # c2 1080, c10 600
    ]
    bot = metrics.breakdown("csat_bot", "channel", WEEK, now=NOW)
    assert [(r["key"], r["value"], r["n"]) for r in bot] == [
        ("socketio", 0.5, 2),  # c1 5, c7 1
        ("telegram", 1.0, 1),  # c6 4
    ]


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["conversation_id"] for row in rows]


def test_drill_down_lists_the_conversations_behind_a_number(metrics: MetricStore) -> None:
    first, cursor = metrics.conversations(WEEK, metric="handoff_rate", limit=2)
    assert ids(first) == ["c8", "c10"]  # newest first
    second, cursor = metrics.conversations(WEEK, metric="handoff_rate", limit=2, cursor=cursor)
    assert ids(second) == ["c5", "c9"]
    last, cursor = metrics.conversations(WEEK, metric="handoff_rate", limit=2, cursor=cursor)
    assert (ids(last), cursor) == (["c3", "c2"], None)
    expected = {
        "handed_off": True,
        "handoff_reason": "frustration",
        "first_response_s": 1080.0,
        "sla_met": True,
        "resolved": True,
        "reopened": True,
        "csat_agent": 5,
        "segment_id": BETA,
        "intent": "card_lost",
        "channel": "telegram",
        "started_at": "2026-11-09T15:00:00Z",
    }
    assert {key: last[1][key] for key in expected} == expected
    durable, _ = metrics.conversations(WEEK, metric="durable_containment_rate", now=NOW)
    assert ids(durable) == ["c6", "c4", "c1"]
    assert ids(metrics.conversations(WEEK, metric="fallback_rate")[0]) == ["c7", "c6", "c2"]
    assert ids(metrics.conversations(WEEK, metric="csat_agent")[0]) == ["c9", "c2"]
    # the judged resolutions: c8 was resolved less than 7 days before NOW
    reopen, _ = metrics.conversations(WEEK, metric="reopen_rate", now=NOW)
    assert ids(reopen) == ["c10", "c9", "c3", "c2"]
    everything, _ = metrics.conversations(WEEK)
    assert ids(everything) == [
        "c13", "c8", "c7", "c6", "c10", "c5", "c9", "c3", "c4", "c2", "c1",
    ]  # fmt: skip


def test_unknown_metric_or_dimension_names_the_valid_ones(metrics: MetricStore) -> None:
    with pytest.raises(ValueError, match="unknown metric 'speed'; metrics: conversations, "):
        metrics.timeseries("speed", WEEK)
    with pytest.raises(ValueError, match="unknown breakdown 'day'; by: intent, segment, channel"):
        metrics.breakdown("conversations", "day", WEEK)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.conversations(WEEK, metric="speed")
    with pytest.raises(ValueError, match="starts"):
        metrics.summary(MetricFilter(date(2026, 11, 13), date(2026, 11, 9)))


def test_every_definition_is_the_paragraph_under_its_heading_in_the_docs() -> None:
    """docs/metrics.md is the written source: each `### name` is followed by its definition."""
    text = (PROJECT_ROOT / "docs" / "metrics.md").read_text()
    documented = {}
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        name, _, body = section.partition("\n")
        paragraph = body.strip().split("\n\n")[0]
        documented[name.strip()] = " ".join(paragraph.split())
    assert documented == {name: metric.definition for name, metric in {**METRICS, **LISTS}.items()}


def test_a_short_range_read_through_the_day_index_agrees(metrics: MetricStore) -> None:
    """One day of the six rolled up: SQLite reads it through the day index, not a scan."""
    monday = MetricFilter(date(2026, 11, 9), date(2026, 11, 9))
    summary = metrics.summary(monday, now=NOW)
    assert (summary["conversations"], summary["customer_messages"], summary["handoffs"]) == (
        2,  # c1, c2
        5,  # 2 + 3
        1,  # c2
    )
    assert summary["fallback_rate"] == pytest.approx(1 / 5)
    assert (summary["median_first_response_s"], summary["sla_met_rate"]) == (1080.0, 1.0)
    assert (summary["csat_bot"], summary["csat_agent"]) == (1.0, 1.0)  # c1 5; c2 5
    assert summary["handoff_reasons"] == [{"reason": "frustration", "count": 1}]
    assert [
        (r["key"], r["value"]) for r in metrics.breakdown("handoff_rate", "channel", monday)
    ] == [
        ("socketio", 0.0),  # c1
        ("telegram", 1.0),  # c2
    ]
    assert ids(metrics.conversations(monday)[0]) == ["c2", "c1"]
