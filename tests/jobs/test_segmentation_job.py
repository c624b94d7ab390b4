"""The segmentation job on the seeded demo store (SQLite and PostgreSQL): every active customer
gets a segment, k stays in the strategy range, and a second run keeps the ids."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.crm.enums import JobStatus, JobTrigger, SegmentTrait
from bot.crm.models import Customer, JobRun, Segment, SegmentAssignment
from bot.crm.store import CRMStore
from bot.jobs.base import JobContext
from bot.jobs.registry import load_job
from bot.settings import load_settings
from tests.crm_queries import segments_of


def context(store: CRMStore, tmp_path, method: str = "kmeans") -> JobContext:
    with Session(store.engine) as session, session.begin():
        run = JobRun(
            job="segmentation",
            status=JobStatus.SUCCEEDED.value,  # a record to point at; one may run at a time
            trigger=JobTrigger.CLI.value,
            started_at=datetime.now(timezone.utc),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SEGMENT_METHOD": method})
    return JobContext(store=store, settings=settings, run_id=run_id, show_progress=False)


def active_customers(store: CRMStore) -> set[int]:
    frames = store.activity.features(datetime.now(timezone.utc))
    return {int(c) for frame in frames for c in frame["customer_id"]}


def test_every_active_customer_gets_a_named_segment(seeded_store: CRMStore, tmp_path) -> None:
    job = load_job("segmentation")
    first_context = context(seeded_store, tmp_path)

    result = job.run(first_context)

    customers = active_customers(seeded_store)
    segments = segments_of(seeded_store)
    assert job.name == "segmentation"
    assert result.rows["customers"] == len(customers) > 0
    assert 4 <= result.figures["k"] <= 8 and result.rows["segments"] == len(segments)
    assert set(result.figures["silhouette"]) <= {str(k) for k in range(4, 9)}
    assert sum(s.size for s in segments) == len(customers)
    assert result.figures["sizes"] == {s.name: s.size for s in segments}
    assert len({s.name for s in segments}) == len(segments)
    for segment in segments:
        assert segment.method == "kmeans" and segment.first_run_id == first_context.run_id
        assert segment.description.startswith(f"{segment.size} customers")
        assert {"features", "centroid", "traits"} <= set(segment.profile)
        assert set(segment.profile["traits"]) <= set(SegmentTrait.values())
        assert set(segment.profile["features"]["monetary"]) == {"mean", "z"}
    assigned = {c for c in customers if seeded_store.segments.current(c) is not None}
    assert assigned == customers
    assert result.rows["assignments_opened"] == len(customers)


def test_a_second_run_keeps_ids_and_opens_no_assignment(seeded_store: CRMStore, tmp_path) -> None:
    job = load_job("segmentation")
    job.run(context(seeded_store, tmp_path))
    before = {s.id: s.size for s in segments_of(seeded_store)}

    again = job.run(context(seeded_store, tmp_path))

    assert {s.id: s.size for s in segments_of(seeded_store)} == before
    assert again.rows["segments_created"] == again.rows["segments_retired"] == 0
    assert again.rows["assignments_opened"] == again.rows["assignments_closed"] == 0
    with Session(seeded_store.engine) as session:
        rows = session.scalar(select(func.count(SegmentAssignment.id)))
    assert rows == again.rows["customers"]


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_the_method_setting_picks_the_clusterer(
    seeded_store: CRMStore, tmp_path, method: str
) -> None:
    result = load_job("segmentation").run(context(seeded_store, tmp_path, method))

    assert result.figures["method"] == method
    assert 0.0 <= result.figures["noise_share"] <= 1.0
    assert all(s.method == method for s in segments_of(seeded_store))
    assert sum(result.figures["sizes"].values()) == result.rows["customers"]


def test_with_no_active_customer_every_segment_is_retired(seeded_store: CRMStore, tmp_path) -> None:
    job = load_job("segmentation")
    job.run(context(seeded_store, tmp_path))
    live = len(segments_of(seeded_store))
    with Session(seeded_store.engine) as session, session.begin():
        session.execute(update(Customer).values(left_at=datetime(2020, 1, 1, tzinfo=timezone.utc)))

    result = job.run(context(seeded_store, tmp_path))

    assert result.rows == {"customers": 0, "segments_retired": live}
    assert segments_of(seeded_store) == [] and seeded_store.segments.current(1) is None


def test_the_method_setting_is_checked(tmp_path) -> None:
    assert load_settings({"CRM_VAR_DIR": str(tmp_path)}).segment_method == "kmeans"
    assert (
        load_settings(
            {"CRM_VAR_DIR": str(tmp_path), "CRM_SEGMENT_METHOD": "HDBSCAN"}
        ).segment_method
        == "hdbscan"
    )
    with pytest.raises(SystemExit, match="CRM_SEGMENT_METHOD"):
        load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SEGMENT_METHOD": "spectral"})


def test_switching_method_retires_the_old_segments_and_their_ids(
    seeded_store: CRMStore, tmp_path
) -> None:
    """The earlier segments have the very centroids the new run finds (labelled as another
    method's), so only the method keeps the new run from continuing them."""
    job = load_job("segmentation")
    job.run(context(seeded_store, tmp_path, "hdbscan"))
    with Session(seeded_store.engine) as session, session.begin():
        session.execute(update(Segment).values(method="kmeans"))
    kmeans = {s.id for s in segments_of(seeded_store)}

    switched = job.run(context(seeded_store, tmp_path, "hdbscan"))

    hdbscan = {s.id for s in segments_of(seeded_store)}
    assert hdbscan and not hdbscan & kmeans, "no id carries over from another method"
    assert switched.rows["segments_created"] == len(hdbscan)
    assert switched.rows["segments_retired"] == len(kmeans)
    retired = {s.id: s for s in segments_of(seeded_store, include_retired=True)}
    assert all(retired[i].retired_at is not None and retired[i].method == "kmeans" for i in kmeans)
    assert seeded_store.segments.previous_centroids("kmeans") == {}
    for customer in active_customers(seeded_store):
        assert seeded_store.segments.current(customer).id in hdbscan

    again = job.run(context(seeded_store, tmp_path, "hdbscan"))
    assert again.rows["segments_created"] == again.rows["segments_retired"] == 0
    assert {s.id for s in segments_of(seeded_store)} == hdbscan, "same method: ids kept"
