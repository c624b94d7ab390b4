"""Segment strategies on SQLite and PostgreSQL: generated, edited, kept, served per customer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from analytics.strategy import (
    DEFAULT_STRATEGY,
    FIRST_SIGN_OF_FRUSTRATION,
    OFFER_WORDING,
    InvalidStrategy,
    default_strategy,
)
from bot.crm.enums import JobStatus, JobTrigger, Product, SegmentTrait, StaffRole
from bot.crm.models import (
    Customer,
    CustomerInsight,
    JobRun,
    ProductHolding,
    Segment,
    SegmentAssignment,
)
from bot.crm.store import CRMStore, NotFound
from bot.crm.store.strategies import DEFAULT_SERVING

AT_RISK = [SegmentTrait.HIGH_VALUE.value, SegmentTrait.AT_RISK.value]
NEW = [SegmentTrait.NEW.value, SegmentTrait.LOW_VALUE.value]
SINCE = datetime(2026, 10, 1, tzinfo=timezone.utc)


def add_customer(store: CRMStore, name: str = "Ada Lovelace") -> int:
    with Session(store.engine) as session, session.begin():
        customer = Customer(name=name, created_at=SINCE)
        session.add(customer)
        session.flush()
        return customer.id


def add_segment(store: CRMStore, name: str, traits: list[str], size: int = 1) -> int:
    with Session(store.engine) as session, session.begin():
        segment = Segment(
            name=name,
            description=f"{name} customers",
            method="kmeans",
            profile={"traits": traits, "centroid": {"monetary": 1.5}},
            size=size,
            created_at=SINCE,
        )
        session.add(segment)
        session.flush()
        return segment.id


def assign(
    store: CRMStore, customer_id: int, segment_id: int, valid_from: datetime = SINCE
) -> None:
    """Put the customer in the segment from `valid_from`, closing their current assignment."""
    with Session(store.engine) as session, session.begin():
        session.execute(
            update(SegmentAssignment)
            .where(
                SegmentAssignment.customer_id == customer_id, SegmentAssignment.valid_to.is_(None)
            )
            .values(valid_to=valid_from)
        )
        session.add(
            SegmentAssignment(customer_id=customer_id, segment_id=segment_id, valid_from=valid_from)
        )


def set_row(store: CRMStore, model: type, key: int, **values) -> None:
    with Session(store.engine) as session, session.begin():
        row = session.get(model, key)
        for name, value in values.items():
            setattr(row, name, value)


def supervisor(store: CRMStore) -> int:
    return store.staff.create("boss", "supervisor-password", StaffRole.SUPERVISOR).id


def generate(store: CRMStore, run_id: int | None = None) -> dict[str, int]:
    profiles = store.strategies.profiles()
    return store.strategies.generate(
        run_id, {profile.id: default_strategy(profile.traits) for profile in profiles}
    )


@pytest.fixture
def segmented(store: CRMStore) -> tuple[CRMStore, dict[str, int]]:
    """Two segments, a customer in each, and one customer in none."""
    ids = {
        "at_risk": add_segment(store, "High value, at risk", AT_RISK),
        "new": add_segment(store, "New, low value", NEW),
    }
    ids["valuable"] = add_customer(store, "ada lovelace")
    ids["newcomer"] = add_customer(store, "Grace Hopper")
    ids["unsegmented"] = add_customer(store, "Alan Turing")
    assign(store, ids["valuable"], ids["at_risk"])
    assign(store, ids["newcomer"], ids["new"])
    return store, ids


def test_customers_are_served_by_their_current_segment(segmented) -> None:
    store, ids = segmented
    valuable = store.strategies.for_customer(ids["valuable"])
    newcomer = store.strategies.for_customer(ids["newcomer"])
    assert (valuable.segment_id, valuable.segment_name) == (ids["at_risk"], "High value, at risk")
    assert valuable.strategy.handoff_threshold == FIRST_SIGN_OF_FRUSTRATION
    assert (valuable.strategy.priority, valuable.strategy.offers) == (1, ())
    assert newcomer.segment_id == ids["new"]
    assert newcomer.strategy.offers and newcomer.strategy.priority == 3
    assert valuable.strategy.sla_minutes < newcomer.strategy.sla_minutes
    for nobody in (None, ids["unsegmented"], 999_999):
        assert store.strategies.for_customer(nobody) == DEFAULT_SERVING
    assert DEFAULT_SERVING.strategy == DEFAULT_STRATEGY and DEFAULT_SERVING.is_default


def test_a_segment_change_closes_the_old_assignment(segmented) -> None:
    store, ids = segmented
    assign(store, ids["valuable"], ids["new"], SINCE + timedelta(days=10))
    assert store.strategies.for_customer(ids["valuable"]).segment_id == ids["new"]


def test_retired_segments_merged_and_erased_customers(segmented) -> None:
    store, ids = segmented
    set_row(store, Customer, ids["unsegmented"], merged_into_id=ids["valuable"])
    assert store.strategies.for_customer(ids["unsegmented"]).segment_id == ids["at_risk"]
    set_row(store, Customer, ids["newcomer"], erased_at=SINCE)
    assert store.strategies.for_customer(ids["newcomer"]) == DEFAULT_SERVING
    set_row(store, Segment, ids["at_risk"], retired_at=SINCE)
    assert store.strategies.for_customer(ids["valuable"]) == DEFAULT_SERVING
    with pytest.raises(NotFound):
        store.strategies.get(ids["at_risk"])
    assert [segment["id"] for segment in store.strategies.segments()] == [ids["new"]]


def test_offers_are_withheld_from_a_customer_at_risk(segmented) -> None:
    store, ids = segmented
    with Session(store.engine) as session, session.begin():
        session.add(CustomerInsight(customer_id=ids["newcomer"], risk=0.7, updated_at=SINCE))
    served = store.strategies.for_customer(ids["newcomer"])
    assert served.segment_id == ids["new"] and served.strategy.offers == ()


def test_no_offer_is_made_for_a_product_the_customer_holds(segmented) -> None:
    store, ids = segmented
    offered = store.strategies.for_customer(ids["newcomer"]).strategy.offers
    assert OFFER_WORDING[Product.SAVINGS] in offered
    with Session(store.engine) as session, session.begin():
        session.add(
            ProductHolding(customer_id=ids["newcomer"], product=Product.SAVINGS, opened_at=SINCE)
        )
    served = store.strategies.for_customer(ids["newcomer"]).strategy.offers
    assert served == tuple(offer for offer in offered if offer != OFFER_WORDING[Product.SAVINGS])


def test_generate_writes_each_segment_once_and_keeps_supervisor_edits(segmented) -> None:
    store, ids = segmented
    assert [s["strategy"]["stored"] for s in store.strategies.segments()] == [False, False]
    assert generate(store) == {"generated": 2, "unchanged": 0, "kept_edited": 0}
    first = {s["id"]: s["strategy"] for s in store.strategies.segments()}
    assert all(strategy["stored"] for strategy in first.values())
    # Nothing changed: a second run rewrites nothing the bot serves.
    assert generate(store) == {"generated": 0, "unchanged": 2, "kept_edited": 0}
    assert {s["id"]: s["strategy"]["updated_at"] for s in store.strategies.segments()} == {
        key: strategy["updated_at"] for key, strategy in first.items()
    }
    boss = supervisor(store)
    store.strategies.update(ids["new"], {"sla_minutes": 45, "greeting": "Hey {first_name}!"}, boss)
    # The new segment drifts to dormant and the at-risk one loses its high value.
    set_row(store, Segment, ids["new"], profile={"traits": [SegmentTrait.DORMANT.value]})
    set_row(store, Segment, ids["at_risk"], profile={"traits": [SegmentTrait.AT_RISK.value]})
    assert generate(store) == {"generated": 1, "unchanged": 0, "kept_edited": 1}
    edited = store.strategies.get(ids["new"])
    assert (edited["sla_minutes"], edited["greeting"], edited["edited_by"]) == (
        45,
        "Hey {first_name}!",
        boss,
    )
    regenerated = store.strategies.get(ids["at_risk"])
    assert (
        regenerated["handoff_threshold"]
        == default_strategy([SegmentTrait.AT_RISK]).handoff_threshold
    )
    assert regenerated["edited_by"] is None


def test_a_supervisors_edit_is_served_and_recorded(segmented) -> None:
    store, ids = segmented
    boss = supervisor(store)
    before, after = store.strategies.update(
        ids["new"], {"tone": "concise", "priority": 2, "handoff_threshold": 0.4}, boss
    )
    assert before["stored"] is False and before["priority"] == 3
    assert (after["tone"], after["priority"], after["handoff_threshold"]) == ("concise", 2, 0.4)
    assert after["stored"] and after["edited_by"] == boss
    assert after["greeting"] == before["greeting"], "fields not sent keep their value"
    served = store.strategies.for_customer(ids["newcomer"]).strategy
    assert (served.tone, served.priority, served.handoff_threshold) == ("concise", 2, 0.4)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "body"),
        ({"colour": "red"}, "colour"),
        ({"tone": "grumpy"}, "tone"),
        ({"greeting": ""}, "greeting"),
        ({"greeting": "Hi {name}"}, "greeting"),
        ({"greeting": "Hi {first_name!r}"}, "greeting"),
        ({"greeting": "Hi {"}, "greeting"),
        ({"greeting": "Hi\x00"}, "greeting"),
        ({"offers": "savings"}, "offers"),
        ({"offers": ["a", "b", "c", "d"]}, "offers"),
        ({"offers": [""]}, "offers"),
        ({"priority": 0}, "priority"),
        ({"priority": True}, "priority"),
        ({"priority": 2.5}, "priority"),
        ({"handoff_threshold": 1.5}, "handoff_threshold"),
        ({"handoff_threshold": "0.3"}, "handoff_threshold"),
        ({"handoff_threshold": float("nan")}, "handoff_threshold"),
        ({"sla_minutes": 0}, "sla_minutes"),
    ],
)
def test_a_bad_field_is_refused_and_changes_nothing(segmented, fields, field) -> None:
    store, ids = segmented
    stamp = store.strategies.stamp()
    with pytest.raises(InvalidStrategy) as refused:
        store.strategies.update(ids["new"], fields, supervisor(store))
    assert refused.value.field == field
    assert store.strategies.get(ids["new"])["stored"] is False
    assert store.strategies.stamp() == stamp


def test_an_at_risk_segment_is_never_made_offers(segmented) -> None:
    store, ids = segmented
    with pytest.raises(InvalidStrategy, match="at-risk"):
        store.strategies.update(ids["at_risk"], {"offers": ["A loan?"]}, supervisor(store))
    # Even offers written before the segment was found at risk are not served.
    set_row(store, Segment, ids["new"], profile={"traits": AT_RISK})
    assert store.strategies.for_customer(ids["newcomer"]).strategy.offers == ()


def test_unknown_segments_are_not_found(segmented) -> None:
    store, _ = segmented
    with pytest.raises(NotFound):
        store.strategies.get(999)
    with pytest.raises(NotFound):
        store.strategies.update(999, {"priority": 1}, supervisor(store))


def test_the_stamp_moves_when_what_is_served_may_change(segmented) -> None:
    store, ids = segmented
    stamps = [store.strategies.stamp()]
    assert store.strategies.stamp() == stamps[0], "stable while nothing changes"
    generate(store)
    stamps.append(store.strategies.stamp())
    store.strategies.update(ids["new"], {"priority": 2}, supervisor(store))
    stamps.append(store.strategies.stamp())
    assign(store, ids["unsegmented"], ids["new"])
    stamps.append(store.strategies.stamp())
    now = datetime.now(timezone.utc)
    with Session(store.engine) as session, session.begin():
        session.add(
            JobRun(
                job="segmentation",
                status=JobStatus.SUCCEEDED,
                trigger=JobTrigger.CLI,
                started_at=now,
                heartbeat_at=now,
                finished_at=now,
            )
        )
    stamps.append(store.strategies.stamp())
    assert len(set(stamps)) == len(stamps)
