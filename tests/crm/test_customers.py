"""Customers' cards and payments on SQLite and PostgreSQL: blocking one card, newest payments."""

from __future__ import annotations

from bot.crm.enums import CardStatus
from bot.crm.store import CRMStore


def test_blocking_a_card_only_touches_that_customers_unblocked_card(
    seeded_store: CRMStore,
) -> None:
    customers = seeded_store.customers
    card = next(c for c in customers.cards(1) if c.status != CardStatus.BLOCKED)
    other = next(
        customer_id
        for customer_id in range(2, 21)
        if card.last_four not in {c.last_four for c in customers.cards(customer_id)}
    )
    assert customers.block_card(other, card.last_four, "not their card") is None
    before = {c.id: c.status for c in customers.cards(1)}

    blocked = customers.block_card(1, card.last_four, "reported lost")

    assert blocked is not None and blocked.id == card.id and blocked.status == "blocked"
    after = {c.id: c.status for c in customers.cards(1)}
    assert after == {**before, card.id: "blocked"}
    assert customers.block_card(1, card.last_four, "again") is None


def test_recent_card_payments_are_newest_first(seeded_store: CRMStore) -> None:
    payments = seeded_store.customers.recent_card_payments(1, limit=5)
    assert payments, "the demo customer has card payments"
    times = [p["created_at"] for p in payments]
    assert times == sorted(times, reverse=True)
    assert all(p["amount_cents"] < 0 for p in payments)
