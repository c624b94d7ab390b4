"""The demo data agrees with the OpenAPI document: every seeded resolved handoff, as the API
serves it, validates against the documented schema (conversation and packet included)."""

from __future__ import annotations

import re

from jsonschema import RefResolver
from openapi_schema_validator import OAS30Validator, validate

from bot.console.openapi import load_openapi
from bot.crm.seed import RESOLVED_CASES
from tests.console.helpers import AGENT_PASSWORD, login


async def test_every_seeded_resolved_handoff_matches_the_openapi_schema(client) -> None:
    document = load_openapi()
    operation = document["paths"]["/api/v1/handoffs"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    agent = await login(client, "agent", AGENT_PASSWORD)
    reply = await client.get("/api/v1/handoffs?status=resolved", headers=agent)
    assert reply.status == 200
    body = await reply.json()
    validate(body, schema, cls=OAS30Validator, resolver=RefResolver.from_schema(document))
    handoff_schema = {"$ref": "#/components/schemas/Handoff"}
    handoffs = body["handoffs"]
    # The first draws' cases (seed-NNN), then the customers' history (seed-hNNNNN).
    first_draws = [h for h in handoffs if re.fullmatch(r"seed-\d{3}", h["conversation_id"])]
    assert len(first_draws) == len(RESOLVED_CASES) * 5
    assert len(handoffs) > len(first_draws)
    for handoff in handoffs:
        validate(
            handoff, handoff_schema, cls=OAS30Validator, resolver=RefResolver.from_schema(document)
        )
        assert handoff["conversation_id"] and handoff["packet"]["summary"]
    first = handoffs[0]
    conversation = await client.get(
        f"/api/v1/conversations/{first['conversation_id']}", headers=agent
    )
    detail = await conversation.json()
    assert detail["customer_id"] == first["customer_id"]
    assert [m["sender"] for m in detail["messages"]] == ["customer", "bot", "agent"]
    assert detail["messages"][0]["text"] == first["text"]
