"""The risk, channel and rules jobs on SQLite and PostgreSQL: exact outcomes on a hand-built
book of customers with planted signal, and smoke runs on the demo seed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models import Account, Contact, Customer, ProductHolding, Transaction
from bot.crm.store import CRMStore
from bot.jobs.base import Job
from bot.jobs.channel import ChannelJob
from bot.jobs.risk import HORIZON, RiskJob
from bot.jobs.rules import RulesJob
from bot.jobs.runner import STALE_AFTER, execute, run_job
from bot.settings import load_settings
from tests.crm_queries import insight_of, rules_of

TODAY = datetime(2026, 11, 1, tzinfo=timezone.utc)
CUTOFF = TODAY - HORIZON
CUSTOMERS = 80
CHANNELS = ("chat", "phone", "email", "branch")


def unhappy(customer_id: int) -> bool:
    return customer_id % 2 == 0


def leaves(customer_id: int) -> bool:
    """Most unhappy customers leave after the cutoff; a few happy ones do too (noise)."""
    return (unhappy(customer_id) and customer_id % 10 != 0) or customer_id % 15 == 1


def dominant_channel(customer_id: int) -> str:
    return CHANNELS[customer_id % 4]


def basket(customer_id: int) -> set[str]:
    """Mortgage holders mostly hold home insurance too (24 of 30); 4 others hold it alone."""
    products = {"current_account"}
    if customer_id <= 30:
        products.add("mortgage")
        if customer_id <= 24:
            products.add("home_insurance")
    elif customer_id <= 34:
        products.add("home_insurance")
    if customer_id % 3 == 0:
        products.add("savings")
    return products


def add_activity(session: Session, account: Account, customer_id: int, anchor: datetime) -> None:
    """A quarter of activity before `anchor`: everyone paid in the week before it (so recency
    says nothing); unhappy customers rate their contacts 1, happy ones 5. Each contacts
    mostly one channel, with one contact on the next channel for noise."""
    for days_before in (3 + (customer_id // 2) % 4, 40, 80):
        session.add(
            Transaction(
                account_id=account.id,
                kind="card_payment",
                status="completed",
                amount_cents=-2_000,
                currency="GBP",
                counterparty="Shop",
                created_at=anchor - timedelta(days=days_before),
            )
        )
    csat = 1 if unhappy(customer_id) else 5
    channel = dominant_channel(customer_id)
    other = CHANNELS[(customer_id + 1) % 4]
    for days_before, on in [(5, channel), (30, channel), (60, channel), (85, other)]:
        session.add(
            Contact(
                customer_id=customer_id,
                channel=on,
                at=anchor - timedelta(days=days_before),
                csat=csat,
            )
        )


def build(store: CRMStore) -> None:
    """Customers who joined years ago with the same activity in the quarter before the cutoff
    and the quarter before today; most unhappy ones leave after the cutoff."""
    with Session(store.engine) as session, session.begin():
        for customer_id in range(1, CUSTOMERS + 1):
            session.add(
                Customer(
                    id=customer_id,
                    name=f"C{customer_id}",
                    created_at=TODAY - timedelta(days=600 + 7 * customer_id),
                    left_at=CUTOFF + timedelta(days=30) if leaves(customer_id) else None,
                )
            )
            account = Account(
                customer_id=customer_id,
                iban=f"GB00TEST{customer_id:06d}",
                opened_at=TODAY - timedelta(days=900),
            )
            session.add(account)
            session.flush()
            for anchor in (CUTOFF, TODAY):
                add_activity(session, account, customer_id, anchor)
            for product in sorted(basket(customer_id)):
                session.add(
                    ProductHolding(
                        customer_id=customer_id,
                        product=product,
                        opened_at=TODAY - timedelta(days=500),
                    )
                )


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "jobs-secret"})


def run(store: CRMStore, settings, job: Job) -> dict:
    run_id = store.jobs.start(job.name, JobTrigger.CLI, stale_after=STALE_AFTER)
    finished = execute(store, settings, job, run_id)
    assert finished["status"] == JobStatus.SUCCEEDED
    return finished


def test_risk_beats_its_baselines_and_scores_who_is_still_a_customer(
    store: CRMStore, settings
) -> None:
    build(store)
    finished = run(store, settings, RiskJob(today=TODAY))
    figures, rows = finished["figures"], finished["rows"]
    leavers = [c for c in range(1, CUSTOMERS + 1) if leaves(c)]
    assert rows == {
        "customers_at_cutoff": CUSTOMERS,
        "left_after_cutoff": len(leavers),
        "scored": CUSTOMERS - len(leavers),
    }
    assert figures["auc"] > 0.8
    assert figures["auc_majority"] == 0.5
    assert figures["one_feature"] == "recency_days"
    assert figures["auc"] > figures["auc_one_feature"] + 0.2
    assert figures["cutoff"] == CUTOFF.isoformat()
    unhappy_stayer, happy_stayer = 10, 3
    assert not leaves(unhappy_stayer) and not leaves(happy_stayer)
    worried = insight_of(store, unhappy_stayer)
    calm = insight_of(store, happy_stayer)
    assert worried["risk"] > 0.5 > calm["risk"]
    assert worried["risk_run_id"] == finished["id"]
    assert worried["risk_drivers"][0]["feature"] == "csat"
    assert worried["risk_drivers"][0]["value"] == 1.0
    assert worried["risk_drivers"][0]["contribution"] > 0
    assert insight_of(store, leavers[0]) is None
    assert figures["at_risk"] >= 1
    assert "csat" in figures["top_drivers"]


def test_a_second_risk_run_gives_the_same_scores(store: CRMStore, settings) -> None:
    build(store)
    run(store, settings, RiskJob(today=TODAY))
    first = {c: insight_of(store, c)["risk"] for c in (3, 10, 20)}
    again = run(store, settings, RiskJob(today=TODAY))
    assert {c: insight_of(store, c)["risk"] for c in (3, 10, 20)} == first
    assert insight_of(store, 3)["risk_run_id"] == again["id"]


def test_without_enough_leavers_the_risk_run_says_so_and_scores_nobody(
    store: CRMStore, settings
) -> None:
    build(store)
    finished = run(store, settings, RiskJob(today=CUTOFF - timedelta(days=1)))
    assert finished["rows"]["scored"] == 0
    assert finished["rows"]["left_after_cutoff"] == 0
    assert "at least 4" in finished["figures"]["skipped"]
    assert insight_of(store, 3) is None


def test_channel_picks_each_customers_dominant_channel(store: CRMStore, settings) -> None:
    build(store)
    finished = run(store, settings, ChannelJob(today=TODAY))
    active = [c for c in range(1, CUSTOMERS + 1) if not leaves(c)]
    assert finished["rows"] == {"contacts": 8 * len(active), "customers": len(active)}
    for customer_id in active:
        insight = insight_of(store, customer_id)
        assert insight["preferred_channel"] == dominant_channel(customer_id)
        assert 0.2 < insight["channel_confidence"] < 1
    assert finished["figures"]["low_confidence"] == 0
    assert sum(finished["figures"]["preferred"].values()) == len(active)


def test_rules_find_the_planted_rule(store: CRMStore, settings) -> None:
    build(store)
    finished = run(store, settings, RulesJob(today=TODAY))
    active = [c for c in range(1, CUSTOMERS + 1) if not leaves(c)]
    holders = [basket(c) for c in active]
    mortgage = sum("mortgage" in b for b in holders)
    both = sum({"mortgage", "home_insurance"} <= b for b in holders)
    insured = sum("home_insurance" in b for b in holders)
    rules = {(tuple(r["antecedents"]), tuple(r["consequents"])): r for r in rules_of(store)}
    rule = rules[(("mortgage",), ("home_insurance",))]
    assert rule["support"] == pytest.approx(both / len(active))
    assert rule["confidence"] == pytest.approx(both / mortgage)
    assert rule["lift"] == pytest.approx((both / mortgage) / (insured / len(active)))
    assert finished["rows"] == {"customers": len(active), "rules": len(rules)}
    shown = {r["rule"] for r in finished["figures"]["top_rules"]}
    assert "mortgage -> home_insurance" in shown


def test_on_an_empty_store_the_jobs_succeed_and_save_nothing(store: CRMStore, settings) -> None:
    risk = run(store, settings, RiskJob(today=TODAY))
    assert risk["rows"] == {"customers_at_cutoff": 0, "left_after_cutoff": 0, "scored": 0}
    assert run(store, settings, ChannelJob(today=TODAY))["rows"] == {"contacts": 0, "customers": 0}
    assert run(store, settings, RulesJob(today=TODAY))["rows"] == {"customers": 0, "rules": 0}


@pytest.mark.parametrize("name", ["risk", "channel", "rules"])
def test_the_jobs_run_by_name_on_the_demo_seed(seeded_store: CRMStore, settings, name: str) -> None:
    finished = run_job(seeded_store, settings, name, JobTrigger.CLI)
    assert finished["status"] == JobStatus.SUCCEEDED
    assert finished["job"] == name
    assert all(isinstance(count, int) and count >= 0 for count in finished["rows"].values())
