"""The permission matrix: every operation of the OpenAPI document, called as every identity.

The operations come from the document (which another test holds equal to the served routes),
so a new route fails here until MATRIX says who may call it. Each call runs on a fresh
session, so an operation that ends a session (logout) cannot spoil the next.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.console.context import JOB_LAUNCHER
from bot.console.openapi import load_openapi
from bot.crm.enums import StaffRole
from bot.crm.store import CRMStore
from tests.console.helpers import bearer, open_handoff

PUBLIC = None
AGENT, SUPERVISOR, ADMIN = StaffRole.AGENT, StaffRole.SUPERVISOR, StaffRole.ADMIN
HANDOFF = "/api/v1/handoffs/{handoff_id}"
MATRIX: dict[tuple[str, str], StaffRole | None] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/static/lib/enums.js"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): AGENT,
    ("POST", "/api/v1/ws-ticket"): AGENT,
    ("GET", "/api/v1/ws"): AGENT,
    ("GET", "/api/v1/staff"): SUPERVISOR,
    ("POST", "/api/v1/staff"): SUPERVISOR,
    ("PATCH", "/api/v1/staff/{staff_id}"): SUPERVISOR,
    ("GET", "/api/v1/conversations"): AGENT,
    ("GET", "/api/v1/conversations/{conversation_id}"): AGENT,
    ("GET", "/api/v1/customers"): AGENT,
    ("GET", "/api/v1/customers/{customer_id}"): AGENT,
    ("POST", "/api/v1/customers/{customer_id}/widget-token"): SUPERVISOR,
    ("DELETE", "/api/v1/customers/{customer_id}"): SUPERVISOR,
    ("GET", "/api/v1/handoffs"): AGENT,
    ("POST", f"{HANDOFF}/claim"): AGENT,
    ("POST", f"{HANDOFF}/messages"): AGENT,
    ("POST", f"{HANDOFF}/resolve"): AGENT,
    ("POST", f"{HANDOFF}/release"): SUPERVISOR,
    ("POST", f"{HANDOFF}/reassign"): SUPERVISOR,
    ("GET", "/api/v1/tickets/similar"): AGENT,
    ("GET", "/api/v1/audit"): SUPERVISOR,
    ("GET", "/api/v1/jobs"): SUPERVISOR,
    ("POST", "/api/v1/jobs/{job}/run"): SUPERVISOR,
    ("GET", "/api/v1/jobs/runs"): SUPERVISOR,
    ("GET", "/api/v1/jobs/runs/{run_id}"): SUPERVISOR,
    ("GET", "/api/v1/segments"): SUPERVISOR,
    ("GET", "/api/v1/segments/{segment_id}/strategy"): SUPERVISOR,
    ("PUT", "/api/v1/segments/{segment_id}/strategy"): SUPERVISOR,
    ("GET", "/api/v1/analytics/summary"): SUPERVISOR,
    ("GET", "/api/v1/analytics/timeseries"): SUPERVISOR,
    ("GET", "/api/v1/analytics/breakdown"): SUPERVISOR,
    ("GET", "/api/v1/analytics/conversations"): SUPERVISOR,
    ("GET", "/api/v1/analytics/topics"): SUPERVISOR,
    ("GET", "/api/v1/analytics/metrics"): SUPERVISOR,
    ("GET", "/api/v1/quality/flags"): SUPERVISOR,
    ("POST", "/api/v1/quality/flags/{flag_id}/review"): SUPERVISOR,
    ("GET", "/api/v1/nlu/inbox"): SUPERVISOR,
    ("POST", "/api/v1/nlu/inbox/{item_id}/label"): SUPERVISOR,
}
IDENTITIES: dict[str, str | None] = {
    "anonymous": None,
    "agent": "agent",
    "supervisor": "boss",
    "admin": "root",
}
DOCUMENT = load_openapi()
JOB_WAIT_S = 120
"""Bound on waiting for a job a call started (the reindex of the seeded tickets)."""
OPERATIONS = sorted(
    (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
)
QUERIES = {
    "/api/v1/tickets/similar": "?q=card%20declined",
    "/api/v1/analytics/timeseries": "?metric=handoff_rate",
    "/api/v1/analytics/breakdown": "?metric=handoff_rate&by=intent",
}


def test_every_documented_operation_has_a_matrix_entry() -> None:
    assert set(MATRIX) == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_document_marks_exactly_the_protected_operations(method: str, path: str) -> None:
    operation = DOCUMENT["paths"][path][method.lower()]
    assert bool(operation.get("security")) == (MATRIX.get((method, path)) is not PUBLIC)


def expected(required: StaffRole | None, role: StaffRole | None) -> str:
    if required is PUBLIC or (role is not None and role.allows(required)):
        return "allowed"
    return "unauthorized" if role is None else "forbidden"


def concrete(path: str, store: CRMStore, handoff_id: int) -> str:
    """The path with ids of records that exist, so an allowed call reaches its handler."""
    agent_id = next(member.id for member in store.staff.list() if member.username == "agent")
    return path.format(
        staff_id=agent_id,
        conversation_id="conv-1",
        customer_id=3,
        handoff_id=handoff_id,
        job="reindex",
        run_id=1,
        segment_id=1,
        flag_id=1,
        item_id=1,
    ) + QUERIES.get(path, "")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_each_identity_gets_what_the_matrix_says(
    client, console_store: CRMStore, method: str, path: str
) -> None:
    required = MATRIX[(method, path)]
    operation = DOCUMENT["paths"][path][method.lower()]
    url = concrete(path, console_store, open_handoff(console_store))
    staff = {member.username: member for member in console_store.staff.list()}
    outcomes = {}
    for identity, username in IDENTITIES.items():
        member = staff.get(username)
        headers = bearer(console_store.sessions.open(member.id)) if member else {}
        # An empty object: allowed calls with a body stop at validation and change nothing.
        body = {} if "requestBody" in operation else None
        reply = await client.request(method, url, json=body, headers=headers)
        code = None
        if reply.status in (401, 403):
            code = (await reply.json())["error"]["code"]
        outcomes[identity] = (reply.status, code)
    # A job the call started finishes before this test's database goes away.
    assert await asyncio.to_thread(client.app[JOB_LAUNCHER].wait, JOB_WAIT_S) == []
    for identity, (status, code) in outcomes.items():
        role = member.role if (member := staff.get(IDENTITIES[identity])) else None
        want = expected(required, role)
        if want == "allowed":
            assert status not in (401, 403, 500), (identity, outcomes)
        elif want == "unauthorized":
            assert (status, code) == (401, "unauthorized"), (identity, outcomes)
        else:
            assert (status, code) == (403, "forbidden"), (identity, outcomes)
