"""Segments on SQLite and PostgreSQL: runs keep ids, version only changed assignments, retire
vanished segments, and a customer's segment at a past date stays readable."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.crm.models import Customer, SegmentAssignment
from bot.crm.store import CRMStore
from bot.crm.store.segments import SegmentDraft
from tests.crm_queries import segment_by_id, segments_of

DAY_ONE = datetime(2026, 5, 1, 2, 30, tzinfo=timezone.utc)
DAY_TWO = DAY_ONE + timedelta(days=1)
DAY_THREE = DAY_ONE + timedelta(days=2)


def draft(name: str, segment_id: int | None = None, size: int = 1) -> SegmentDraft:
    profile = {"centroid": {"monetary": float(len(name))}, "traits": ["high_value"]}
    return SegmentDraft(segment_id, name, f"{name} customers.", profile, size)


def add_customers(store: CRMStore, count: int) -> None:
    with Session(store.engine) as session, session.begin():
        session.add_all(
            Customer(id=i, name=f"C{i}", created_at=DAY_ONE) for i in range(1, count + 1)
        )


def assignment_rows(store: CRMStore) -> int:
    with Session(store.engine) as session:
        return session.scalar(select(func.count(SegmentAssignment.id)))


def test_a_second_run_versions_only_changed_customers_and_keeps_history(
    store: CRMStore,
) -> None:
    add_customers(store, 4)
    segments = store.segments
    customers = np.array([1, 2, 3, 4])

    first = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha", size=2), draft("Beta", size=2)],
        customers,
        np.array([0, 0, 1, 1]),
        DAY_ONE,
    )
    alpha, beta = first.segment_ids
    assert (first.created, first.opened, first.closed, first.retired) == (2, 4, 0, 0)
    assert segments.previous_centroids("kmeans") == {
        alpha: {"monetary": 5.0},
        beta: {"monetary": 4.0},
    }

    second = segments.save_run(
        None,
        "kmeans",
        [draft("Busy", beta, 3), draft("Alpha", alpha, 1)],
        customers,
        np.array([1, 0, 0, 0]),
        DAY_TWO,
    )

    assert second.segment_ids == [beta, alpha]
    assert (second.created, second.opened, second.closed, second.retired) == (0, 1, 1, 0)
    assert assignment_rows(store) == 5
    assert segments.current(1).id == alpha and segments.current(2).id == beta
    assert segments.at(2, DAY_ONE + timedelta(hours=1)).id == alpha
    assert segments.at(2, DAY_TWO).id == beta
    assert segments.at(2, DAY_ONE - timedelta(seconds=1)) is None
    assert segments.current(2).name == "Busy"  # a continued segment takes the new run's name
    assert [s.id for s in segments_of(store)] == [beta, alpha]


def test_a_vanished_segment_is_retired_and_its_customers_move(store: CRMStore) -> None:
    add_customers(store, 3)
    segments = store.segments
    customers = np.array([1, 2, 3])
    first = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha"), draft("Beta"), draft("Gamma")],
        customers,
        np.array([0, 1, 2]),
        DAY_ONE,
    )
    alpha, beta, gamma = first.segment_ids

    second = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha", alpha, 2), draft("Delta", None, 1)],
        customers,
        np.array([0, 0, 1]),
        DAY_TWO,
    )

    delta = second.segment_ids[1]
    assert delta not in (alpha, beta, gamma)
    assert (second.created, second.retired) == (1, 2)
    assert {s.id for s in segments_of(store)} == {alpha, delta}
    retired = {s.id: s for s in segments_of(store, include_retired=True)}
    assert retired[beta].retired_at == DAY_TWO and retired[gamma].retired_at == DAY_TWO
    assert set(segments.previous_centroids("kmeans")) == {alpha, delta}
    assert segments.current(2).id == alpha and segments.current(3).id == delta
    assert segments.at(3, DAY_ONE).id == gamma


def test_customers_no_longer_segmented_lose_their_current_segment(store: CRMStore) -> None:
    add_customers(store, 3)
    segments = store.segments
    first = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha", size=3)],
        np.array([1, 2, 3]),
        np.array([0, 0, 0]),
        DAY_ONE,
    )

    segments.save_run(
        None,
        "kmeans",
        [draft("Alpha", first.segment_ids[0], 2)],
        np.array([1, 2]),
        np.array([0, 0]),
        DAY_TWO,
    )

    assert segments.current(3) is None
    assert segments.at(3, DAY_ONE).id == first.segment_ids[0]
    assert segments.current(1).id == first.segment_ids[0]
    assert assignment_rows(store) == 3


def test_a_rerun_with_the_same_result_changes_nothing(store: CRMStore) -> None:
    add_customers(store, 2)
    segments = store.segments
    first = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha"), draft("Beta")],
        np.array([1, 2]),
        np.array([0, 1]),
        DAY_ONE,
    )
    alpha, beta = first.segment_ids

    again = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha", alpha), draft("Beta", beta)],
        np.array([1, 2]),
        np.array([0, 1]),
        DAY_THREE,
    )

    assert (again.created, again.retired, again.opened, again.closed) == (0, 0, 0, 0)
    assert segments.current(1).id == alpha
    assert assignment_rows(store) == 2
    assert segment_by_id(store, alpha).name == "Alpha" and segment_by_id(store, 9999) is None


def test_a_run_of_another_method_continues_none_of_its_segments(store: CRMStore) -> None:
    add_customers(store, 2)
    segments = store.segments
    first = segments.save_run(
        None,
        "kmeans",
        [draft("Alpha"), draft("Beta")],
        np.array([1, 2]),
        np.array([0, 1]),
        DAY_ONE,
    )
    alpha, beta = first.segment_ids
    assert segments.previous_centroids("hdbscan") == {}
    assert set(segments.previous_centroids("kmeans")) == {alpha, beta}

    switched = segments.save_run(
        None,
        "hdbscan",
        [draft("Alpha", alpha, 2)],
        np.array([1, 2]),
        np.array([0, 0]),
        DAY_TWO,
    )

    [gamma] = switched.segment_ids
    assert gamma not in (alpha, beta), "a kmeans id is not reused by an hdbscan segment"
    assert (switched.created, switched.retired) == (1, 2)
    retired = {s.id: s for s in segments_of(store, include_retired=True)}
    assert retired[alpha].retired_at == DAY_TWO and retired[alpha].method == "kmeans"
    assert retired[gamma].method == "hdbscan" and retired[gamma].retired_at is None
    assert segments.previous_centroids("kmeans") == {}
    assert set(segments.previous_centroids("hdbscan")) == {gamma}
    assert segments.current(1).id == gamma and segments.at(1, DAY_ONE).id == alpha
