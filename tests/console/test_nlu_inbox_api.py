"""The NLU inbox through the API: the store's groups with the intents a label may name, labels
and dismissals checked by the store and audited, CSV rows equal to the JSON."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from bot.crm.enums import InboxStatus
from bot.crm.store import CRMStore
from bot.training import domain_intents
from tests.console.helpers import AGENT_PASSWORD, JSON_TYPE, assert_error, login
from tests.console.test_analytics_api import check_schema, say

INBOX = "/api/v1/nlu/inbox"
INJECTION = "=1+2;@SUM(A1:A9)"
MISSES = [
    "my card still hasn't arrived",
    "card still has not arrived yet",
    "can I pay with my watch",
    INJECTION,
    "-2+3 is my pin?",
]


@pytest.fixture
def inbox(console_store: CRMStore) -> list[dict]:
    """Customer messages the bot fell back on, collected as the analytics job does (after the
    seeded history's own misses, so the count below is this fixture's)."""
    console_store.inbox.collect()
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    for number, text in enumerate(MISSES):
        say(
            console_store,
            f"miss-{number}",
            start + timedelta(minutes=number),
            text,
            intent="nlu_fallback",
            confidence=0.3,
            customer_id=3,
        )
    assert console_store.inbox.collect() == len(MISSES)
    return console_store.inbox.groups(InboxStatus.OPEN)


def items_of(groups: list[dict]) -> list[dict]:
    return [item for group in groups for item in group["items"]]


def label_url(item_id: object) -> str:
    return f"{INBOX}/{item_id}/label"


def item_with(groups: list[dict], text: str) -> dict:
    return next(item for item in items_of(groups) if item["text"] == text)


async def test_the_inbox_is_the_stores_groups_with_the_domains_intents(client, inbox) -> None:
    boss = await login(client)
    body = await (await client.get(INBOX, headers=boss)).json()
    assert body["status"] == "open"
    assert body["groups"] == inbox
    assert body["intents"] == sorted(domain_intents())
    assert body["new_intents"] == []
    for group in body["groups"]:
        check_schema(group, "InboxGroup")
    # The seeded history has misses of its own in the inbox: judge this fixture's.
    assert {item["text"] for item in items_of(inbox)} >= set(MISSES)
    [arrived] = [g for g in inbox if MISSES[0] in {item["text"] for item in g["items"]}]
    ours = {item["text"] for item in arrived["items"]} & set(MISSES)
    assert ours == {MISSES[0], MISSES[1]}, "look-alikes are one group"
    sizes = [group["size"] for group in inbox]
    assert sizes == sorted(sizes, reverse=True), "largest first"
    for status in ("labelled", "trained", "dismissed"):
        other = await (await client.get(INBOX, params={"status": status}, headers=boss)).json()
        assert other["groups"] == []
    for query in ("status=closed", "format=xlsx"):
        await assert_error(
            await client.get(f"{INBOX}?{query}", headers=boss), 400, "invalid_parameter"
        )


async def test_a_label_is_stored_and_audited(client, console_store, inbox) -> None:
    boss = await login(client)
    item = item_with(inbox, MISSES[0])
    reply = await client.post(label_url(item["id"]), json={"intent": "card_arrival"}, headers=boss)
    assert reply.status == 200
    labelled = await reply.json()
    check_schema(labelled, "InboxItem")
    assert (labelled["status"], labelled["intent"], labelled["response"]) == (
        "labelled",
        "card_arrival",
        None,
    )
    relabel = await client.post(
        label_url(item["id"]),
        json={"intent": "card_delivery_estimate", "response": None},
        headers=boss,
    )
    assert (await relabel.json())["intent"] == "card_delivery_estimate"
    listed = await (await client.get(INBOX, params={"status": "labelled"}, headers=boss)).json()
    assert [i["id"] for i in items_of(listed["groups"])] == [item["id"]]
    entries, _ = console_store.audit.list(actor="boss")
    labels = [e for e in entries if e["action"] == "label_message"]
    assert [(e["target_type"], e["target_id"], e["customer_id"]) for e in labels] == [
        ("conversation", item["conversation_id"], 3)
    ] * 2
    assert labels[0]["detail"] == {
        "item_id": item["id"],
        "intent": "card_delivery_estimate",
        "response": None,
    }


async def test_a_new_intent_needs_a_good_name_and_a_response(client, inbox) -> None:
    boss = await login(client)
    item = item_with(inbox, MISSES[2])
    for body in (
        {"intent": "pay_with_watch"},
        {"intent": "Pay-With-Watch", "response": "Yes"},
        {"intent": "restart", "response": "Yes"},
        {"intent": "card_arrival", "response": "A domain intent keeps its own answers"},
        {"intent": "pay_with_watch", "response": "x" * 1001},
    ):
        reply = await client.post(label_url(item["id"]), json=body, headers=boss)
        await assert_error(reply, 400, "invalid_field")
    answer = "Yes: add your card to Apple Pay or Google Pay on your watch."
    reply = await client.post(
        label_url(item["id"]), json={"intent": "pay_with_watch", "response": answer}, headers=boss
    )
    assert ((await reply.json())["intent"], (await reply.json())["response"]) == (
        "pay_with_watch",
        answer,
    )

    # The next look at the inbox offers the new intent with its answer; labels reuse it.
    listed = await (await client.get(INBOX, headers=boss)).json()
    assert listed["intents"] == sorted({*domain_intents(), "pay_with_watch"})
    assert listed["new_intents"] == [{"intent": "pay_with_watch", "response": answer}]
    other = item_with(inbox, MISSES[3])
    reply = await client.post(
        label_url(other["id"]), json={"intent": "pay_with_watch"}, headers=boss
    )
    assert reply.status == 200
    assert (await reply.json())["response"] is None


async def test_a_dismissal_is_final(client, inbox) -> None:
    boss = await login(client)
    item = item_with(inbox, MISSES[4])
    reply = await client.post(label_url(item["id"]), json={"dismiss": True}, headers=boss)
    assert (await reply.json())["status"] == "dismissed"
    again = await client.post(label_url(item["id"]), json={"dismiss": True}, headers=boss)
    await assert_error(again, 409, "conflict")
    label = await client.post(label_url(item["id"]), json={"intent": "greet"}, headers=boss)
    await assert_error(label, 409, "conflict")
    listed = await (await client.get(INBOX, params={"status": "dismissed"}, headers=boss)).json()
    assert [i["id"] for i in items_of(listed["groups"])] == [item["id"]]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_field"),
        ({"dismiss": False}, "invalid_field"),
        ({"dismiss": "yes"}, "invalid_field"),
        ({"dismiss": True, "intent": "greet"}, "invalid_field"),
        ({"intent": "greet", "confidence": 1}, "invalid_field"),
        ({"intent": ""}, "invalid_field"),
        ({"intent": 42}, "invalid_field"),
        ({"intent": "x" * 101}, "invalid_field"),
        ({"intent": "greet\x00"}, "nul_character"),
        ({"intent": "new_one", "response": ["hi"]}, "invalid_field"),
        ({"intent": "new_one", "response": "hi\x1b[31m"}, "invalid_field"),
    ],
)
async def test_a_bad_label_is_a_400_and_changes_nothing(
    client, console_store, inbox, body, code
) -> None:
    boss = await login(client)
    reply = await client.post(label_url(item_with(inbox, MISSES[0])["id"]), json=body, headers=boss)
    await assert_error(reply, 400, code)
    assert console_store.inbox.groups(InboxStatus.OPEN) == inbox


async def test_unknown_items_are_404(client, inbox) -> None:
    boss = await login(client)
    for item_id in ("999999", "0", "abc", "99999999999999"):
        reply = await client.post(label_url(item_id), json={"intent": "greet"}, headers=boss)
        await assert_error(reply, 404, "not_found")
    plain = await client.post(
        label_url(1), data=b'{"dismiss": true}', headers={**boss, "Content-Type": "text/plain"}
    )
    await assert_error(plain, 415, "unsupported_media_type")
    broken = await client.post(label_url(1), data=b'{"dismiss": tru', headers={**boss, **JSON_TYPE})
    await assert_error(broken, 400, "invalid_json")


async def test_the_inbox_csv_is_the_json_and_cannot_run_formulas(
    client, console_store, inbox
) -> None:
    boss = await login(client)
    body = await (await client.get(INBOX, headers=boss)).json()
    reply = await client.get(INBOX, params={"format": "csv"}, headers=boss)
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.now(timezone.utc).date()
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="nlu-inbox-open-{today}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(await reply.text())))
    expected = [(group["key"], item) for group in body["groups"] for item in group["items"]]
    assert [(row["group"], row["id"]) for row in rows] == [
        (key, str(item["id"])) for key, item in expected
    ]
    texts = {row["text"] for row in rows}
    assert "'" + INJECTION in texts and "'-2+3 is my pin?" in texts
    assert MISSES[0] in texts
    entries, _ = console_store.audit.list(actor="boss")
    assert [e["action"] for e in entries][:2] == ["export_analytics", "read_analytics"]
    assert sorted(entries[0]["detail"]["item_ids"]) == sorted(i["id"] for _, i in expected)


async def test_agents_cannot_see_or_label_the_inbox(client, inbox) -> None:
    agent = await login(client, "agent", AGENT_PASSWORD)
    await assert_error(await client.get(INBOX, headers=agent), 403, "forbidden")
    reply = await client.post(label_url(1), json={"dismiss": True}, headers=agent)
    await assert_error(reply, 403, "forbidden")
    await assert_error(await client.get(INBOX), 401, "unauthorized")
    boss = await login(client)
    await assert_error(await client.delete(INBOX, headers=boss), 405, "method_not_allowed")
