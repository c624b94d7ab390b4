"""The cleaning job on the seeded demo store (SQLite and PostgreSQL): it merges exactly the
planted duplicates into the customers they duplicate, leaves the look-alikes alone, fixes the
planted invalid values, keeps every reference, and a second run changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.dedupe import normalise_email, normalise_name, normalise_phone
from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models import (
    Account,
    Card,
    Contact,
    Conversation,
    Customer,
    CustomerFix,
    JobRun,
    ProductHolding,
    Ticket,
)
from bot.crm.seed_people import LOOKALIKES, PLANTED_DUPLICATES
from bot.crm.store import CRMStore
from bot.jobs.base import JobContext
from bot.jobs.registry import load_job
from bot.settings import load_settings
from tests.crm_queries import merges_of

ORIGINALS = 20
"""The seeded store's first draws; new joiners and look-alikes follow, duplicates come last."""
REFERENCED_BY_CUSTOMER = (Account, Card, Conversation, Ticket, ProductHolding, Contact)


def context(store: CRMStore, tmp_path) -> JobContext:
    with Session(store.engine) as session, session.begin():
        run = JobRun(
            job="cleaning",
            status=JobStatus.SUCCEEDED.value,
            trigger=JobTrigger.CLI.value,
            started_at=datetime.now(timezone.utc),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path)})
    return JobContext(store=store, settings=settings, run_id=run_id, show_progress=False)


def reference_counts(store: CRMStore) -> dict[str, int]:
    with Session(store.engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in REFERENCED_BY_CUSTOMER
        }


def test_cleaning_merges_the_planted_duplicates_and_nothing_else(
    seeded_store: CRMStore, tmp_path
) -> None:
    with Session(seeded_store.engine) as session:
        before = {c.id: c for c in session.scalars(select(Customer))}
    counts = reference_counts(seeded_store)
    job = load_job("cleaning")
    run = context(seeded_store, tmp_path)

    result = job.run(run)

    last = max(before)
    planted = set(range(last - PLANTED_DUPLICATES + 1, last + 1))
    lookalikes = set(
        range(last - PLANTED_DUPLICATES - LOOKALIKES + 1, last - PLANTED_DUPLICATES + 1)
    )
    merges = {m["merged_id"]: m for m in merges_of(seeded_store)}
    assert job.name == "cleaning"
    assert set(merges) == planted and result.rows["merged"] == result.figures["merged"] == 6
    for merged_id, merge in merges.items():
        kept, dup = before[merge["kept_id"]], before[merged_id]
        assert merge["kept_id"] <= ORIGINALS and merge["run_id"] == run.run_id
        assert fuzz.token_sort_ratio(normalise_name(kept.name), normalise_name(dup.name)) >= 85
        shared = {
            "email": normalise_email(kept.email) == normalise_email(dup.email) is not None,
            "phone": normalise_phone(kept.phone) == normalise_phone(dup.phone) is not None,
        }
        assert any(shared.values()) and {k for k, v in shared.items() if v} <= set(
            merge["matched_on"]
        )
        assert merge["snapshot"]["name"] == normalise_name(dup.name), "as fixed before the merge"
    assert not lookalikes & set(merges)

    with Session(seeded_store.engine) as session:
        merged_refs = {
            model.__tablename__: session.scalar(
                select(func.count()).where(model.__table__.c.customer_id.in_(planted))
            )
            for model in REFERENCED_BY_CUSTOMER
        }
        traced = session.scalar(select(func.count()).select_from(CustomerFix))
        fills = session.scalar(select(func.count()).where(CustomerFix.rule == "merge_fill"))
        total = session.scalar(select(func.count()).select_from(Customer))
    assert reference_counts(seeded_store) == counts, "nothing is deleted"
    assert merged_refs == {table: 0 for table in counts}, "every reference moved"
    assert total == len(before)

    fixed = result.figures["fixed_by_rule"]
    for rule in ("invalid_email", "invalid_phone", "name_format", "blank_city", "phone_format"):
        assert fixed[rule] >= 1, rule
    assert traced == result.rows["fixed"] + fills, "each fix is traced with its old value"
    assert set(result.figures["missing_by_field"]) == {"email", "phone", "city"}
    assert result.figures["missing_by_field"]["city"] >= 1
    assert result.figures["moved"]["accounts"] >= 1

    again = job.run(context(seeded_store, tmp_path))
    remaining = result.rows["customers"] - PLANTED_DUPLICATES
    assert again.rows == {"customers": remaining, "fixed": 0, "merged": 0}
    assert again.figures["fixed_by_rule"] == {} and again.figures["merges"] == []
    assert again.figures["missing_by_field"] == result.figures["missing_by_field"]
    assert len(merges_of(seeded_store)) == PLANTED_DUPLICATES
