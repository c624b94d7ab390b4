"""Segments and their strategies through the console API: listed, read, edited (supervisors
only, every field checked, every edit audited), and the edit served to the bot."""

from __future__ import annotations

import pytest
from jsonschema import RefResolver
from openapi_schema_validator import OAS30Validator, validate

from analytics.strategy import default_strategy
from bot.console.openapi import load_openapi
from bot.crm.store import CRMStore
from tests.console.helpers import AGENT_PASSWORD, JSON_TYPE, assert_error, login
from tests.crm.test_strategies import AT_RISK, NEW, add_segment, assign

DOCUMENT = load_openapi()


def check_schema(body: object, name: str) -> None:
    validate(
        body,
        {"$ref": f"#/components/schemas/{name}"},
        cls=OAS30Validator,
        resolver=RefResolver.from_schema(DOCUMENT),
    )


@pytest.fixture
def segments(console_store: CRMStore) -> dict[str, int]:
    ids = {
        "at_risk": add_segment(console_store, "High value, at risk", AT_RISK, size=12),
        "new": add_segment(console_store, "New, low value", NEW, size=30),
    }
    assign(console_store, 3, ids["new"])
    return ids


async def test_supervisors_see_each_segment_with_its_strategy(client, segments) -> None:
    reply = await client.get("/api/v1/segments", headers=await login(client))
    assert reply.status == 200
    listed = (await reply.json())["segments"]
    for segment in listed:
        check_schema(segment, "Segment")
    assert [(s["id"], s["name"], s["size"]) for s in listed] == [
        (segments["at_risk"], "High value, at risk", 12),
        (segments["new"], "New, low value", 30),
    ]
    at_risk = listed[0]
    assert at_risk["profile"]["traits"] == AT_RISK
    assert at_risk["strategy"]["handoff_threshold"] == default_strategy(AT_RISK).handoff_threshold
    assert at_risk["strategy"]["stored"] is False and at_risk["strategy"]["offers"] == []


async def test_an_edit_is_checked_stored_audited_and_served(
    client, console_store: CRMStore, segments
) -> None:
    boss = await login(client)
    url = f"/api/v1/segments/{segments['new']}/strategy"
    reply = await client.put(
        url, json={"greeting": "Hey {first_name}, welcome aboard!", "sla_minutes": 25}, headers=boss
    )
    assert reply.status == 200
    after = await reply.json()
    check_schema(after, "SegmentStrategy")
    supervisor_id = next(s.id for s in console_store.staff.list() if s.username == "boss")
    assert (after["greeting"], after["sla_minutes"], after["edited_by"]) == (
        "Hey {first_name}, welcome aboard!",
        25,
        supervisor_id,
    )
    assert after["tone"] == default_strategy(NEW).tone, "fields not sent keep their value"
    assert await (await client.get(url, headers=boss)).json() == after
    served = console_store.strategies.for_customer(3).strategy
    assert (served.greet("Ada"), served.sla_minutes) == ("Hey Ada, welcome aboard!", 25)
    entries, _ = console_store.audit.list(actor="boss")
    [edit] = [entry for entry in entries if entry["action"] == "update_strategy"]
    assert (edit["target_type"], edit["target_id"]) == ("segment", str(segments["new"]))
    assert edit["detail"]["fields"] == ["greeting", "sla_minutes"]
    assert edit["detail"]["before"]["sla_minutes"] == default_strategy(NEW).sla_minutes
    assert edit["detail"]["after"] == after


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Send at least one of"),
        ({"colour": "red"}, "'colour' is not a strategy field"),
        ({"tone": "grumpy"}, "'tone' must be one of warm, reassuring, concise, welcoming."),
        ({"greeting": "Hi {name}"}, "may use only the placeholder {first_name}"),
        ({"greeting": "x" * 401}, "'greeting' must be at most 400 characters."),
        ({"offers": ["a", "b", "c", "d"]}, "'offers' must be a list of at most 3 texts."),
        ({"offers": [1]}, "'offers' must be a non-empty string."),
        ({"priority": "1"}, "'priority' must be an integer from 1 to 5."),
        ({"handoff_threshold": -0.1}, "'handoff_threshold' must be a number from 0 to 1."),
        ({"sla_minutes": 10081}, "'sla_minutes' must be an integer from 1 to 10080."),
    ],
)
async def test_a_bad_field_is_a_400_that_names_it(
    client, console_store: CRMStore, segments, body, message
) -> None:
    reply = await client.put(
        f"/api/v1/segments/{segments['new']}/strategy", json=body, headers=await login(client)
    )
    await assert_error(reply, 400, "invalid_field")
    assert message in (await reply.json())["error"]["message"]
    assert console_store.strategies.get(segments["new"])["stored"] is False
    entries, _ = console_store.audit.list(actor="boss")
    assert "update_strategy" not in {entry["action"] for entry in entries}


async def test_an_at_risk_segment_cannot_be_given_offers(client, segments) -> None:
    reply = await client.put(
        f"/api/v1/segments/{segments['at_risk']}/strategy",
        json={"offers": ["A personal loan"]},
        headers=await login(client),
    )
    await assert_error(reply, 400, "invalid_field")


async def test_unknown_segments_and_bodies_that_are_not_json(client, segments) -> None:
    boss = await login(client)
    await assert_error(
        await client.get("/api/v1/segments/999/strategy", headers=boss), 404, "not_found"
    )
    await assert_error(
        await client.put("/api/v1/segments/999/strategy", json={"priority": 1}, headers=boss),
        404,
        "not_found",
    )
    await assert_error(
        await client.get("/api/v1/segments/0/strategy", headers=boss), 404, "not_found"
    )
    not_json = await client.put(
        f"/api/v1/segments/{segments['new']}/strategy",
        data=b'{"priority": 1}',
        headers={**boss, "Content-Type": "text/plain"},
    )
    await assert_error(not_json, 415, "unsupported_media_type")
    broken = await client.put(
        f"/api/v1/segments/{segments['new']}/strategy",
        data=b'{"priority": ',
        headers={**boss, **JSON_TYPE},
    )
    assert broken.status == 400


async def test_agents_may_not_read_or_edit_strategies(client, segments) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    await assert_error(await client.get("/api/v1/segments", headers=agent), 403, "forbidden")
    reply = await client.put(
        f"/api/v1/segments/{segments['new']}/strategy", json={"priority": 1}, headers=agent
    )
    await assert_error(reply, 403, "forbidden")
