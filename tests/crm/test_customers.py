"""Customers' cards and payments on SQLite and PostgreSQL: blocking and replacing one card, newest
payments."""

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
    assert customers.block_and_replace(other, card.last_four, "not their card") is None
    before = {c.id: c.status for c in customers.cards(1)}

    result = customers.block_and_replace(1, card.last_four, "reported lost")

    assert result is not None
    blocked, replacement = result
    assert blocked.id == card.id and blocked.status == "blocked"
    after = {c.id: c.status for c in customers.cards(1)}
    assert after == {**before, card.id: "blocked", replacement.id: replacement.status}
    assert customers.block_and_replace(1, card.last_four, "again") is None


def test_a_blocked_card_gets_a_replacement_with_new_digits(seeded_store: CRMStore) -> None:
    customers = seeded_store.customers
    card = next(c for c in customers.cards(1) if c.status != CardStatus.BLOCKED)
    before = {c.last_four for c in customers.cards(1)}

    _, replacement = customers.block_and_replace(1, card.last_four, "reported lost")

    assert (replacement.brand, replacement.kind) == (card.brand, card.kind)
    assert replacement.last_four not in before
    if card.kind == "physical":
        assert replacement.status == CardStatus.ORDERED
        assert replacement.expected_delivery is not None
    else:
        assert (replacement.status, replacement.expected_delivery) == (CardStatus.ACTIVE, None)
    assert customers.cards(1)[0] == replacement, "the newest card comes first"


def test_recent_card_payments_are_newest_first(seeded_store: CRMStore) -> None:
    payments = seeded_store.customers.recent_card_payments(1, limit=5)
    assert payments, "the demo customer has card payments"
    times = [p["created_at"] for p in payments]
    assert times == sorted(times, reverse=True)
    assert all(p["amount_cents"] < 0 for p in payments)
