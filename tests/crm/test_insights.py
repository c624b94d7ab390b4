"""The insight store on SQLite and PostgreSQL: what the risk, channel and rules jobs read
(active customers only, nothing after `as_of`) and how their conclusions are upserted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.crm.enums import JobTrigger
from bot.crm.models import Contact, Customer, CustomerInsight, ProductHolding, ProductRule
from bot.crm.store import CRMStore
from tests.crm_queries import insight_of, rules_of

AS_OF = datetime(2026, 6, 1, tzinfo=timezone.utc)


def days(n: float) -> datetime:
    return AS_OF - timedelta(days=n)


def build(store: CRMStore) -> None:
    """1 and 2 active; 3 left before `as_of`; 4 merged into 1; 5 erased; 6 leaves after."""
    with Session(store.engine) as session, session.begin():
        for customer_id, fields in [
            (1, {}),
            (2, {}),
            (3, {"left_at": days(10)}),
            (4, {}),
            (5, {"erased_at": days(5)}),
            (6, {"left_at": days(-10)}),
        ]:
            session.add(
                Customer(id=customer_id, name=f"C{customer_id}", created_at=days(900), **fields)
            )
        session.flush()
        session.get(Customer, 4).merged_into_id = 1
        for customer_id, channel, at in [
            (1, "chat", 5),
            (1, "phone", 300),
            (1, "email", 2000),
            (1, "branch", -3),
            (2, "phone", 1),
            (3, "chat", 20),
            (4, "chat", 20),
            (5, "chat", 20),
            (6, "email", 40),
        ]:
            session.add(Contact(customer_id=customer_id, channel=channel, at=days(at)))
        for customer_id, product, opened, closed in [
            (1, "current_account", 800, None),
            (1, "mortgage", 400, None),
            (1, "overdraft", 500, 30),
            (1, "savings", -2, None),
            (2, "current_account", 100, None),
            (2, "overdraft", 500, -30),
            (3, "mortgage", 400, None),
            (4, "savings", 400, None),
            (6, "credit_card", 100, None),
        ]:
            session.add(
                ProductHolding(
                    customer_id=customer_id,
                    product=product,
                    opened_at=days(opened),
                    closed_at=None if closed is None else days(closed),
                )
            )


def run_id(store: CRMStore, job: str) -> int:
    run = store.jobs.start(job, JobTrigger.CLI, stale_after=timedelta(hours=1))
    store.jobs.finish(run, {}, {})
    return run


def test_contacts_are_those_of_active_customers_up_to_as_of(store: CRMStore) -> None:
    build(store)
    contacts = store.insights.contacts(AS_OF)
    assert list(contacts.columns) == ["customer_id", "channel", "at"]
    rows = list(contacts.itertuples(index=False, name=None))
    assert [(c, ch) for c, ch, _ in rows] == [
        (1, "email"),
        (1, "phone"),
        (1, "chat"),
        (2, "phone"),
        (6, "email"),
    ]
    assert rows[2][2] == days(5)
    assert str(contacts["at"].dt.tz) == "UTC"
    recent = store.insights.contacts(AS_OF, since=days(1000))
    assert (1, "email") not in {(c, ch) for c, ch, _ in recent.itertuples(index=False, name=None)}


def test_no_contacts_give_an_empty_frame_with_the_columns(store: CRMStore) -> None:
    contacts = store.insights.contacts(AS_OF)
    assert contacts.empty
    assert list(contacts.columns) == ["customer_id", "channel", "at"]


def test_baskets_hold_products_open_at_as_of(store: CRMStore) -> None:
    build(store)
    assert store.insights.baskets(AS_OF) == {
        1: {"current_account", "mortgage"},
        2: {"current_account", "overdraft"},
        6: {"credit_card"},
    }
    assert store.insights.baskets(days(450))[1] == {"current_account", "overdraft"}


def test_risk_scores_are_upserted_and_stale_ones_cleared(store: CRMStore) -> None:
    build(store)
    first, second = run_id(store, "risk"), run_id(store, "risk")
    drivers = [{"feature": "recency_days", "value": 120.5, "contribution": 0.21}]
    assert store.insights.save_risk(
        first,
        [
            {"customer_id": 1, "risk": 0.7, "drivers": drivers},
            {"customer_id": 2, "risk": 0.1, "drivers": []},
        ],
    )
    assert insight_of(store, 1)["risk_drivers"] == drivers
    assert store.insights.save_risk(second, [{"customer_id": 1, "risk": 0.4, "drivers": []}]) == 1
    one, two = insight_of(store, 1), insight_of(store, 2)
    assert (one["risk"], one["risk_drivers"], one["risk_run_id"]) == (0.4, [], second)
    assert (two["risk"], two["risk_run_id"], two["risk_drivers"]) == (None, None, [])
    assert insight_of(store, 3) is None
    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(CustomerInsight)) == 2


def test_risk_and_channel_runs_leave_each_other_alone(store: CRMStore) -> None:
    build(store)
    risk, channel = run_id(store, "risk"), run_id(store, "channel")
    store.insights.save_risk(risk, [{"customer_id": 1, "risk": 0.3, "drivers": []}])
    store.insights.save_channels(
        channel,
        [
            {"customer_id": 1, "channel": "chat", "confidence": 0.8},
            {"customer_id": 2, "channel": "phone", "confidence": 0.25},
        ],
    )
    one = insight_of(store, 1)
    assert (one["risk"], one["risk_run_id"]) == (0.3, risk)
    assert (one["preferred_channel"], one["channel_confidence"]) == ("chat", 0.8)
    assert one["channel_run_id"] == channel
    assert insight_of(store, 2)["risk"] is None
    again = run_id(store, "channel")
    store.insights.save_channels(again, [{"customer_id": 2, "channel": "email", "confidence": 0.5}])
    assert insight_of(store, 1)["preferred_channel"] is None
    assert insight_of(store, 1)["risk"] == 0.3
    assert insight_of(store, 2)["preferred_channel"] == "email"


def test_many_scores_are_saved_in_batches(store: CRMStore, monkeypatch) -> None:
    from bot.crm.store import insights

    monkeypatch.setattr(insights, "BATCH", 2)
    build(store)
    run = run_id(store, "risk")
    scores = [{"customer_id": c, "risk": c / 10, "drivers": []} for c in (1, 2, 6)]
    assert store.insights.save_risk(run, scores) == 3
    assert [insight_of(store, c)["risk"] for c in (1, 2, 6)] == [0.1, 0.2, 0.6]


def test_rules_are_stored_per_run_and_the_latest_succeeded_run_is_read(store: CRMStore) -> None:
    first, second = run_id(store, "rules"), run_id(store, "rules")
    rule = {
        "antecedents": ["mortgage"],
        "consequents": ["home_insurance"],
        "support": 0.32,
        "confidence": 0.8,
        "lift": 2.1,
    }
    weaker = {**rule, "antecedents": ["savings"], "consequents": ["investments"], "lift": 1.5}
    assert store.insights.save_rules(first, [rule]) == 1
    assert store.insights.save_rules(second, [weaker, rule]) == 2
    assert store.insights.save_rules(second, [weaker, rule]) == 2
    assert rules_of(store) == [rule, weaker]
    assert rules_of(store, first) == [rule]
    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(ProductRule)) == 3
    failed = store.jobs.start("rules", JobTrigger.CLI, stale_after=timedelta(hours=1))
    store.insights.save_rules(failed, [rule])
    store.jobs.fail(failed, "broke after saving")
    assert rules_of(store) == [rule, weaker]
    assert store.insights.save_rules(run_id(store, "rules"), []) == 0
    assert rules_of(store) == []
