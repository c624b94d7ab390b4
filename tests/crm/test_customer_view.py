"""A customer's view on SQLite and PostgreSQL, from hand-built segment, strategy, insight,
holding and rule rows: what an agent sees, and hints withheld when selling would be wrong."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from analytics.thresholds import WITHHELD_AT_RISK, WITHHELD_AT_RISK_SEGMENT, WITHHELD_COMPLAINING
from bot.crm.enums import JobStatus, JobTrigger, Product, Tone
from bot.crm.models import (
    Customer,
    CustomerInsight,
    JobRun,
    ProductHolding,
    ProductRule,
    Segment,
    SegmentAssignment,
    Strategy,
)
from bot.crm.store import CRMStore
from bot.crm.store.customers import CustomerStore

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
MORTGAGE, HOME = Product.MORTGAGE.value, Product.HOME_INSURANCE.value
SAVINGS, INVESTMENTS = Product.SAVINGS.value, Product.INVESTMENTS.value
CURRENT, CARD = Product.CURRENT_ACCOUNT.value, Product.CREDIT_CARD.value
TRAVEL_INS, TRAVEL_MONEY = Product.TRAVEL_INSURANCE.value, Product.TRAVEL_MONEY.value


def add(store: CRMStore, *rows: object) -> None:
    with store.customers._session() as session:
        session.add_all(rows)


def run(store: CRMStore, job: str, at: datetime) -> int:
    with store.customers._session() as session:
        row = JobRun(
            job=job,
            status=JobStatus.SUCCEEDED,
            trigger=JobTrigger.CLI,
            started_at=at,
            heartbeat_at=at,
            finished_at=at,
        )
        session.add(row)
        session.flush()
        return row.id


def rule(
    run_id: int, antecedents: list[str], consequents: list[str], confidence: float, lift: float
) -> ProductRule:
    return ProductRule(
        run_id=run_id,
        antecedents=antecedents,
        consequents=consequents,
        support=0.1,
        confidence=confidence,
        lift=lift,
    )


def customers(store: CRMStore) -> None:
    """Ann (loyal, holds a mortgage and savings), Bob (at risk), Cy (no job has seen him)."""
    add(
        store,
        Customer(id=1, name="Ann Lee", email="ann@example.com", created_at=T0),
        Customer(id=2, name="Bob Stone", email="bob@example.com", created_at=T0 + timedelta(1)),
        Customer(id=3, name="Cy Moor", email="cy@example.com", created_at=T0 + timedelta(2)),
    )
    segmentation = run(store, "segmentation", T0)
    add(
        store,
        Segment(
            id=10,
            name="Loyal, high value",
            description="Long-standing customers who hold several products.",
            method="kmeans",
            profile={"traits": ["high_value", "long_standing"]},
            size=1,
        ),
        Segment(
            id=11,
            name="High value, at risk",
            description="Valuable customers whose activity is dropping.",
            method="kmeans",
            profile={"traits": ["high_value", "at_risk"]},
            size=1,
        ),
    )
    add(
        store,
        SegmentAssignment(
            customer_id=1,
            segment_id=11,
            run_id=segmentation,
            valid_from=T0 - timedelta(days=60),
            valid_to=T0 - timedelta(days=30),
        ),
        SegmentAssignment(
            customer_id=1, segment_id=10, run_id=segmentation, valid_from=T0 - timedelta(days=30)
        ),
        SegmentAssignment(customer_id=2, segment_id=11, run_id=segmentation, valid_from=T0),
        Strategy(
            segment_id=10,
            tone=Tone.WARM,
            greeting="Welcome back, {first_name}!",
            offers=["An investment account could grow your savings."],
            priority=2,
            handoff_threshold=0.45,
            sla_minutes=10,
            updated_at=T0,
        ),
        Strategy(
            segment_id=11,
            tone=Tone.REASSURING,
            greeting="Hello {first_name}, a person is ready whenever you'd like one.",
            offers=[],
            priority=1,
            handoff_threshold=0.2,
            sla_minutes=5,
            updated_at=T0,
        ),
    )
    risk = run(store, "risk", T0)
    add(
        store,
        CustomerInsight(
            customer_id=1,
            risk=0.12,
            risk_drivers=[{"feature": "recency_days", "value": 12.0, "contribution": 0.01}],
            risk_run_id=risk,
            preferred_channel="phone",
            channel_confidence=0.82,
            updated_at=T0,
        ),
        CustomerInsight(
            customer_id=2,
            risk=0.74,
            risk_drivers=[{"feature": "csat", "value": 1.5, "contribution": 0.4}],
            risk_run_id=risk,
            updated_at=T0,
        ),
        ProductHolding(customer_id=1, product=CURRENT, opened_at=T0 - timedelta(days=900)),
        ProductHolding(customer_id=1, product=MORTGAGE, opened_at=T0 - timedelta(days=800)),
        ProductHolding(customer_id=1, product=SAVINGS, opened_at=T0 - timedelta(days=700)),
        ProductHolding(
            customer_id=1,
            product=CARD,
            opened_at=T0 - timedelta(days=600),
            closed_at=T0 - timedelta(days=10),
        ),
        ProductHolding(customer_id=2, product=MORTGAGE, opened_at=T0 - timedelta(days=500)),
    )


def test_a_customer_with_everything_gets_segment_strategy_risk_channel_and_hints(
    store: CRMStore,
) -> None:
    customers(store)
    old = run(store, "rules", T0)
    latest = run(store, "rules", T0 + timedelta(days=1))
    add(
        store,
        rule(old, [CURRENT], [TRAVEL_MONEY], 0.9, 9.0),
        rule(latest, [MORTGAGE], [HOME], 0.8, 2.5),
        rule(latest, [SAVINGS], [INVESTMENTS], 0.6, 3.1),
        rule(latest, [MORTGAGE, SAVINGS], [HOME], 0.85, 2.9),
        rule(latest, [CURRENT], [CARD], 0.5, 1.2),
        rule(latest, [CURRENT], [SAVINGS], 0.7, 1.5),
        rule(latest, [CARD, TRAVEL_INS], [TRAVEL_MONEY], 0.7, 4.0),
        rule(latest, [CURRENT], [TRAVEL_INS], 0.3, 1.1),
    )

    view = store.customer_view.view(1)

    assert view["segment"] == {
        "id": 10,
        "name": "Loyal, high value",
        "description": "Long-standing customers who hold several products.",
    }
    assert view["strategy"] == {
        "tone": "warm",
        "greeting": "Welcome back, {first_name}!",
        "offers": ["An investment account could grow your savings."],
        "priority": 2,
        "handoff_threshold": 0.45,
        "sla_minutes": 10,
        "default": False,
    }
    assert view["risk"] == {
        "score": 0.12,
        "drivers": [{"feature": "recency_days", "value": 12.0, "contribution": 0.01}],
        "at_risk": False,
    }
    assert view["preferred_channel"] == {"channel": "phone", "confidence": 0.82}
    assert [h["product"] for h in view["holdings"]] == [CURRENT, MORTGAGE, SAVINGS]
    # The old run's stronger rule is ignored; a product held (savings) or whose antecedents
    # are not all held (travel money) is no hint; home insurance once, by its best rule;
    # three hints, by lift, the closed credit card among them.
    assert view["cross_sell"] == {
        "hints": [
            {"product": INVESTMENTS, "because": [SAVINGS], "confidence": 0.6, "lift": 3.1},
            {"product": HOME, "because": [MORTGAGE, SAVINGS], "confidence": 0.85, "lift": 2.9},
            {"product": CARD, "because": [CURRENT], "confidence": 0.5, "lift": 1.2},
        ],
        "withheld": None,
    }


def test_hints_are_withheld_from_a_customer_at_risk_or_complaining(store: CRMStore) -> None:
    customers(store)
    add(store, rule(run(store, "rules", T0), [MORTGAGE], [HOME], 0.8, 2.5))

    assert store.customer_view.view(2)["risk"]["at_risk"] is True
    assert store.customer_view.view(2)["cross_sell"] == {"hints": [], "withheld": WITHHELD_AT_RISK}
    assert store.customer_view.view(1, complaining=True)["cross_sell"] == {
        "hints": [],
        "withheld": WITHHELD_COMPLAINING,
    }
    assert [h["product"] for h in store.customer_view.view(1)["cross_sell"]["hints"]] == [HOME]


def test_hints_are_withheld_from_a_customer_in_an_at_risk_segment(store: CRMStore) -> None:
    customers(store)
    add(store, rule(run(store, "rules", T0), [CURRENT], [HOME], 0.8, 2.5))
    add(store, ProductHolding(customer_id=2, product=CURRENT, opened_at=T0))
    with store.customers._session() as session:
        session.get(CustomerInsight, 2).risk = 0.2  # not at risk themselves

    view = store.customer_view.view(2)

    assert view["risk"]["at_risk"] is False and view["segment"]["id"] == 11
    assert view["cross_sell"] == {"hints": [], "withheld": WITHHELD_AT_RISK_SEGMENT}


def test_a_retired_segment_is_no_ones_current_segment(store: CRMStore) -> None:
    customers(store)
    with store.customers._session() as session:
        session.get(Segment, 10).retired_at = T0

    view = store.customer_view.view(1)

    assert view["segment"] is None and view["strategy"]["default"] is True
    assert store.segments.current(1) is None
    assert store.strategies.for_customer(1).is_default


def test_a_customer_no_job_has_seen_gets_the_default_strategy_and_no_hints(
    store: CRMStore,
) -> None:
    customers(store)

    view = store.customer_view.view(3)

    assert view["segment"] is None
    assert view["strategy"]["default"] is True
    assert view["strategy"]["offers"] == []
    assert (view["risk"], view["preferred_channel"], view["holdings"]) == (None, None, [])
    assert view["cross_sell"] == {"hints": [], "withheld": None}
    assert store.customer_view.view(1)["cross_sell"]["hints"] == [], "no rules run yet"


def test_the_customer_list_filters_by_segment_and_text_and_hides_merged_and_erased(
    store: CRMStore,
) -> None:
    customers(store)
    add(
        store,
        Customer(id=4, name="Ann Lee", email="ANN@example.com ", created_at=T0, merged_into_id=1),
        Customer(id=5, name="Erased", email=None, created_at=T0, erased_at=T0),
        Customer(id=6, name="Dee 100%_sure", email="dee@example.org", created_at=T0),
    )
    search = CustomerStore(store.engine).search

    everyone, _ = search()
    assert [c["id"] for c in everyone] == [3, 2, 6, 1], "newest first, then by id"
    assert everyone[1] == {
        "id": 2,
        "name": "Bob Stone",
        "email": "bob@example.com",
        "city": None,
        "segment_id": 11,
        "segment": "High value, at risk",
        "created_at": "2026-11-02T00:00:00Z",
    }
    assert [c["id"] for c in search(segment_id=10)[0]] == [1], "only current assignments"
    assert [c["id"] for c in search(segment_id=11)[0]] == [2]
    assert [c["id"] for c in search(q="ANN")[0]] == [1]
    assert [c["id"] for c in search(q="example.org")[0]] == [6]
    assert [c["id"] for c in search(q="100%_")[0]] == [6], "wildcards match as text"
    assert search(q="1_0")[0] == []


def test_the_customer_list_pages_with_a_cursor(store: CRMStore) -> None:
    customers(store)
    add(store, *(Customer(id=i, name=f"Same Day {i}", created_at=T0) for i in range(20, 25)))
    search = CustomerStore(store.engine).search

    seen, cursor = [], None
    while True:
        page, cursor = search(limit=3, cursor=cursor)
        seen += [c["id"] for c in page]
        if cursor is None:
            break

    assert seen == [c["id"] for c in search(limit=200)[0]]
    assert len(seen) == len(set(seen)) == 8
