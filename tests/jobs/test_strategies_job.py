"""The strategies job after a real segmentation run (SQLite and PostgreSQL): every segment gets
a strategy from its traits, a second run keeps what a supervisor edited, and customers are
served by their segment's strategy."""

from __future__ import annotations

from sqlalchemy import select

from analytics.strategy import default_strategy
from bot.crm.enums import JobStatus, JobTrigger, SegmentTrait, StaffRole
from bot.crm.models import Customer
from bot.crm.store import CRMStore
from bot.crm.store.strategies import segment_traits
from bot.jobs.runner import run_job
from bot.settings import load_settings


def customer_ids(store: CRMStore) -> list[int]:
    with store.engine.connect() as connection:
        return list(connection.scalars(select(Customer.id)))


def test_each_segment_is_served_by_its_generated_strategy(seeded_store: CRMStore, tmp_path):
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path)})
    run_job(seeded_store, settings, "segmentation", JobTrigger.CLI)
    before = seeded_store.strategies.stamp()

    run = run_job(seeded_store, settings, "strategies", JobTrigger.CLI)

    assert run["status"] == JobStatus.SUCCEEDED
    segments = seeded_store.strategies.segments()
    assert run["rows"] == {
        "segments": len(segments),
        "generated": len(segments),
        "unchanged": 0,
        "kept_edited": 0,
    }
    assert seeded_store.strategies.stamp() != before
    for segment in segments:
        strategy = segment["strategy"]
        traits = segment_traits(segment["profile"])
        assert strategy["stored"] and strategy["generated_by_run_id"] == run["id"]
        assert strategy == {**strategy, **default_strategy(traits).as_fields()}
        if SegmentTrait.AT_RISK in traits:
            assert strategy["offers"] == []
    members = {
        customer: seeded_store.strategies.for_customer(customer).segment_id
        for customer in customer_ids(seeded_store)
    }
    # Customers who left before today have no current segment: they get the default.
    assert set(members.values()) - {None} == {segment["id"] for segment in segments}

    edited = segments[0]["id"]
    boss = seeded_store.staff.create("boss", "supervisor-password", StaffRole.SUPERVISOR).id
    seeded_store.strategies.update(edited, {"priority": 1, "sla_minutes": 3}, boss)
    again = run_job(seeded_store, settings, "strategies", JobTrigger.CLI)
    assert again["rows"]["kept_edited"] == 1
    assert again["rows"]["unchanged"] == len(segments) - 1
    kept = seeded_store.strategies.get(edited)
    assert (kept["priority"], kept["sla_minutes"], kept["edited_by"]) == (1, 3, boss)
