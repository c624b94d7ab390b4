"""Finding customers and reading one with segment, strategy, risk, channel and hints, over a
store with hand-built rows: filters, paging, hidden merged and erased customers, the audit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from analytics.thresholds import WITHHELD_AT_RISK
from bot.crm.enums import StaffRole
from bot.crm.models import Customer
from bot.crm.store import CRMStore
from bot.crm.store.base import encode_cursor
from tests.console.helpers import AGENT_PASSWORD, PASSWORD, assert_error, login
from tests.crm.test_customer_view import (
    HOME,
    INVESTMENTS,
    MORTGAGE,
    SAVINGS,
    T0,
    add,
    customers,
    rule,
    run,
)


@pytest.fixture
def console_store(store: CRMStore) -> CRMStore:
    """Ann (segment 10), Bob (segment 11, at risk), Cy (no segment), a merged duplicate of
    Ann, an erased customer, and rules from one run."""
    store.staff.create("boss", PASSWORD, StaffRole.SUPERVISOR)
    store.staff.create("agent", AGENT_PASSWORD, StaffRole.AGENT)
    customers(store)
    add(
        store,
        Customer(id=4, name="ann lee", email="ann@example.com", created_at=T0, merged_into_id=1),
        Customer(id=5, name="Gone", created_at=T0 + timedelta(days=5), erased_at=T0),
    )
    rules = run(store, "rules", T0)
    add(
        store,
        rule(rules, [MORTGAGE], [HOME], 0.8, 2.5),
        rule(rules, [SAVINGS], [INVESTMENTS], 0.6, 3.1),
    )
    return store


async def listed(client, query: str, headers) -> dict:
    reply = await client.get(f"/api/v1/customers?{query}", headers=headers)
    assert reply.status == 200, await reply.text()
    return await reply.json()


async def test_agents_find_customers_by_segment_and_text(client, console_store) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)

    everyone = await listed(client, "", agent)
    assert [(c["id"], c["segment_id"], c["segment"]) for c in everyone["customers"]] == [
        (3, None, None),
        (2, 11, "High value, at risk"),
        (1, 10, "Loyal, high value"),
    ]
    assert everyone["next_cursor"] is None
    assert [c["id"] for c in (await listed(client, "segment=11", agent))["customers"]] == [2]
    assert [c["id"] for c in (await listed(client, "q=ann%40EXAMPLE", agent))["customers"]] == [1]
    assert (await listed(client, "segment=999", agent))["customers"] == []

    first = await listed(client, "limit=2", agent)
    second = await listed(client, f"limit=2&cursor={first['next_cursor']}", agent)
    assert [c["id"] for c in first["customers"] + second["customers"]] == [3, 2, 1]
    assert second["next_cursor"] is None

    log, _ = console_store.audit.list(actor="agent", limit=10)
    lists = [entry for entry in log if entry["action"] == "list_customers"]
    assert len(lists) == 6
    assert lists[-1]["target_id"] == "*"
    assert lists[-1]["detail"] == {"segment": None, "q": None, "customer_ids": [3, 2, 1]}
    searched = {"segment": None, "q": "ann@EXAMPLE", "customer_ids": [1]}
    assert searched in [entry["detail"] for entry in lists]


HUGE_KEY_CURSOR = encode_cursor(datetime(2026, 1, 1, tzinfo=timezone.utc), "9" * 23)
"""Well formed, but its id fits no database integer."""


@pytest.mark.parametrize(
    "query",
    [
        "segment=x",
        "segment=0",
        "limit=0",
        "limit=500",
        "cursor=%%%",
        f"cursor={HUGE_KEY_CURSOR}",
        "q=" + "a" * 101,
    ],
)
async def test_bad_customer_list_parameters_are_rejected(client, query: str) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    reply = await client.get(f"/api/v1/customers?{query}", headers=agent)
    await assert_error(reply, 400, "invalid_parameter")


async def test_a_customer_comes_with_segment_strategy_risk_channel_holdings_and_hints(
    client, console_store
) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)

    reply = await client.get("/api/v1/customers/1", headers=agent)

    assert reply.status == 200
    ann = await reply.json()
    assert (ann["id"], ann["name"], ann["email"]) == (1, "Ann Lee", "ann@example.com")
    assert ann["segment"]["name"] == "Loyal, high value"
    assert ann["segment"]["description"].startswith("Long-standing")
    assert ann["strategy"]["tone"] == "warm" and ann["strategy"]["sla_minutes"] == 10
    assert ann["risk"]["score"] == 0.12 and ann["risk"]["at_risk"] is False
    assert ann["preferred_channel"] == {"channel": "phone", "confidence": 0.82}
    assert [h["product"] for h in ann["holdings"]] == ["current_account", MORTGAGE, SAVINGS]
    assert [h["product"] for h in ann["cross_sell"]["hints"]] == [INVESTMENTS, HOME]
    assert ann["cross_sell"]["withheld"] is None

    bob = await (await client.get("/api/v1/customers/2", headers=agent)).json()
    assert bob["cross_sell"] == {"hints": [], "withheld": WITHHELD_AT_RISK}
    assert bob["strategy"]["priority"] == 1

    merged = await (await client.get("/api/v1/customers/4", headers=agent)).json()
    assert merged == ann, "a merged duplicate's id reads the customer kept"
    await assert_error(await client.get("/api/v1/customers/5", headers=agent), 404, "not_found")
    log, _ = console_store.audit.list(actor="agent", limit=10)
    reads = [(e["target_id"], e["customer_id"]) for e in log if e["action"] == "read_customer"]
    assert reads == [("4", 1), ("2", 2), ("1", 1)]


async def test_the_customer_list_needs_a_staff_session(client) -> None:
    await assert_error(await client.get("/api/v1/customers"), 401, "unauthorized")
    supervisor = await login(client)
    assert (await client.get("/api/v1/customers", headers=supervisor)).status == 200
