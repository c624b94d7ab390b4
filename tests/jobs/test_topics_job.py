"""The topics job on the seeded demo store (SQLite and PostgreSQL): it succeeds on few,
repetitive messages, counts every assigned message once, digests complaints per segment,
gives the same topics when run again, and succeeds on a store with no messages at all."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models_supervision import Topic, TopicWeek
from bot.crm.store import CRMStore
from bot.crm.store.metric_defs import MetricFilter
from bot.crm.store.topics import TopicMessage, TopicStore
from bot.jobs.registry import JOBS, load_job
from bot.jobs.runner import run_job
from bot.jobs.topics import sample_texts
from bot.settings import load_settings
from tests.conftest import SEED_DAY

SEEDED_RANGE = MetricFilter(date(2024, 1, 1), SEED_DAY.date())


def topics_of(store: CRMStore, run_id: int) -> list[tuple[str, list, list]]:
    with Session(store.engine) as session:
        rows = session.scalars(select(Topic).where(Topic.run_id == run_id).order_by(Topic.id))
        return [(t.label, t.keywords, t.examples) for t in rows]


def test_the_job_finds_topics_in_the_demo_and_is_repeatable(
    seeded_store: CRMStore, tmp_path
) -> None:
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path)})
    assert JOBS["topics"] == "bot.jobs.topics:TopicsJob" and load_job("topics").name == "topics"
    run_job(seeded_store, settings, "segmentation", JobTrigger.CLI)

    first = run_job(seeded_store, settings, "topics", JobTrigger.CLI)

    rows, figures = first["rows"], first["figures"]
    assert first["status"] == JobStatus.SUCCEEDED
    assert rows["messages"] == figures["sample"] > 0
    assert rows["assigned"] + rows["other"] == rows["messages"]
    assert rows["assigned"] >= 0.8 * rows["messages"]
    assert 3 <= rows["topics"] == len(figures["topics"]) <= figures["topics_asked"]
    with Session(seeded_store.engine) as session:
        counted = session.scalar(select(func.sum(TopicWeek.messages)))
        segments = set(session.scalars(select(TopicWeek.segment_id).distinct()))
    assert counted == rows["assigned"] and segments - {None}

    report = TopicStore(seeded_store.engine).report(SEEDED_RANGE, now=SEED_DAY)
    assert sum(t["messages"] for t in report) == rows["assigned"]
    assert [t["messages"] for t in report] == sorted((t["messages"] for t in report), reverse=True)
    complaints = [t["digest"]["complaints"] for t in report if t["digest"]["complaints"]]
    assert complaints and all("all" in by_segment for by_segment in complaints)
    assert any(set(by_segment) - {"all"} for by_segment in complaints)
    for found in report:
        assert found["label"] and found["examples"] and found["keywords"]
        assert {"word", "weight"} == set(found["keywords"][0])

    second = run_job(seeded_store, settings, "topics", JobTrigger.CLI)
    assert second["rows"] == rows
    assert topics_of(seeded_store, second["id"]) == topics_of(seeded_store, first["id"])


def test_the_job_succeeds_with_no_messages(store: CRMStore, tmp_path) -> None:
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path)})
    run = run_job(store, settings, "topics", JobTrigger.CLI)
    assert run["status"] == JobStatus.SUCCEEDED
    assert run["rows"] == {"messages": 0, "assigned": 0, "other": 0, "topics": 0, "topic_weeks": 0}
    assert TopicStore(store.engine).report(SEEDED_RANGE) == []


def test_the_sample_is_seeded_uniform_and_bounded() -> None:
    chunks = [
        [TopicMessage(i, f"text {i}", SEED_DAY, None, None, None) for i in range(start, start + 7)]
        for start in range(1, 50, 7)
    ]
    sample = sample_texts(chunks, 10, seed=0)
    assert len(sample) == 10 == len(set(sample))
    assert sample == sample_texts(chunks, 10, seed=0) != sample_texts(chunks, 10, seed=1)
    numbers = [int(text.split()[1]) for text in sample]
    assert numbers == sorted(numbers)
    assert sample_texts(chunks[:1], 10, seed=0) == [f"text {i}" for i in range(1, 8)]
