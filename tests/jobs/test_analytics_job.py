"""The analytics job on the seeded demo (SQLite and PostgreSQL): it rolls up every
conversation the first time, then only what changed, and the dashboard numbers follow."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models import Conversation
from bot.crm.models_supervision import ConversationFact
from bot.crm.store import CRMStore
from bot.crm.store.metrics import MetricFilter, MetricStore
from bot.jobs.registry import JOBS
from bot.jobs.runner import run_job
from bot.settings import load_settings


def count(store: CRMStore, model: type) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


def test_the_job_rolls_up_the_demo_and_then_only_changes(seeded_store: CRMStore, tmp_path):
    # After segmentation: the facts read the customers' segments.
    assert list(JOBS).index("analytics") > list(JOBS).index("segmentation")
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path)})
    conversations = count(seeded_store, Conversation)
    assert conversations > 0

    run = run_job(seeded_store, settings, "analytics", JobTrigger.SETUP, show_progress=False)

    assert run["status"] == JobStatus.SUCCEEDED
    assert run["rows"]["conversations"] == conversations
    assert set(run["rows"]) == {"conversations", "quality_flags", "inbox_items"}
    assert run["figures"] == {"business_hours": settings.business_hours}
    assert count(seeded_store, ConversationFact) == conversations
    summary = MetricStore(seeded_store.engine).summary(
        MetricFilter(date(2000, 1, 1), date(2100, 1, 1))
    )
    assert 0 < summary["conversations"] <= conversations
    assert summary["containment_rate"] + summary["handoff_rate"] == pytest.approx(1.0)

    again = run_job(seeded_store, settings, "analytics", JobTrigger.CLI, show_progress=False)
    assert again["status"] == JobStatus.SUCCEEDED
    assert again["rows"]["conversations"] == 0
