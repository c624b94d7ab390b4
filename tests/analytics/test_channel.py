"""Preferred channel: the dominant one wins, recent contacts count more, mixed or thin
histories get a low confidence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from analytics.channel import ChannelPreference

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def history(*contacts: tuple[int, str, int]) -> pd.DataFrame:
    """Contacts as (customer id, channel, days ago)."""
    return pd.DataFrame(
        [
            {"customer_id": customer, "channel": channel, "at": NOW - timedelta(days=days)}
            for customer, channel, days in contacts
        ]
    )


def by_customer(contacts: pd.DataFrame, **params: float) -> dict[int, tuple[str, float]]:
    result = ChannelPreference(**params).fit(contacts, as_of=NOW).predict(contacts, as_of=NOW)
    return {
        row.customer_id: (row.channel, row.confidence) for row in result.itertuples(index=False)
    }


def test_the_dominant_channel_wins_with_high_confidence_and_noise_does_not_flip_it() -> None:
    rng = np.random.default_rng(0)
    contacts = history(
        *[(1, "phone", int(d)) for d in rng.integers(0, 300, 18)],
        (1, "chat", 10),
        (1, "email", 20),
        *[(2, "chat", int(d)) for d in rng.integers(0, 300, 12)],
        (2, "branch", 5),
    )
    result = by_customer(contacts)
    assert result[1][0] == "phone"
    assert result[2][0] == "chat"
    assert result[1][1] > 0.6
    assert result[2][1] > 0.6


def test_mixed_contacts_give_a_low_confidence() -> None:
    mixed = history(
        *[(1, channel, day) for day in (5, 60, 120) for channel in ("chat", "phone", "email")],
        *[(2, "branch", day) for day in range(0, 200, 10)],
    )
    result = by_customer(mixed)
    assert result[1][1] < 0.1
    assert result[2][1] > 0.8


def test_few_contacts_give_less_confidence_than_many_of_the_same_kind() -> None:
    contacts = history(
        (1, "email", 3),
        *[(2, "email", day) for day in range(3, 200, 10)],
        *[(3, "chat", day) for day in range(0, 100, 5)],
    )
    result = by_customer(contacts)
    assert result[1][0] == result[2][0] == "email"
    assert result[1][1] < 0.5 < result[2][1]


def test_recent_contacts_outweigh_old_ones() -> None:
    moved_to_chat = history(
        *[(1, "phone", day) for day in range(400, 800, 40)],
        *[(1, "chat", day) for day in range(0, 60, 15)],
    )
    assert by_customer(moved_to_chat)[1][0] == "chat"
    assert by_customer(moved_to_chat, half_life_days=10_000)[1][0] == "phone"


def test_the_prior_is_the_population_mix_and_rows_report_their_contact_counts() -> None:
    contacts = history(
        *[(c, "chat", 1) for c in range(1, 7)],
        *[(c, "phone", 1) for c in range(7, 9)],
        (9, "carrier pigeon", 1),
    )
    model = ChannelPreference().fit(contacts, as_of=NOW)
    assert model.prior_ == pytest.approx([0.75, 0.25, 0.0, 0.0], abs=1e-3)
    result = model.predict(contacts, as_of=NOW).set_index("customer_id")
    assert 9 not in result.index
    assert result.loc[1, "contacts"] == 1
    assert (result["confidence"].between(0, 1)).all()
