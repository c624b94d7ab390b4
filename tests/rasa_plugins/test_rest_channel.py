"""The REST webhook end to end, short of Rasa: what reaches Rasa and what is refused."""

from __future__ import annotations

import json

import pytest
from rasa.core.channels.channel import UserMessage

from bot.crm.store import CRMStore, NotFound
from bot.identity import claimed_customer, issue_customer_token
from bot.rasa_plugins.customer_gate import CustomerGate
from bot.rasa_plugins.limits import PER_SENDER_RATE, CustomerRateLimits
from bot.rasa_plugins.rest_channel import RestWebhook

TOKEN_KEY = "rest-token-key"
CLAIM_KEY = "rest-claim-key"
A, B = 3, 4


class Rasa:
    """Stands in for Rasa's message handler: records what it was given."""

    def __init__(self, fail: bool = False) -> None:
        self.received: list[UserMessage] = []
        self.fail = fail

    async def __call__(self, message: UserMessage) -> None:
        if self.fail:
            raise RuntimeError("the model is not loaded")
        self.received.append(message)


@pytest.fixture
def rasa() -> Rasa:
    return Rasa()


@pytest.fixture
def webhook(seeded_store: CRMStore, rasa: Rasa) -> RestWebhook:
    return RestWebhook(CustomerGate(seeded_store, TOKEN_KEY, CLAIM_KEY), CustomerRateLimits(), rasa)


def request(sender: str, text: str, **metadata: object) -> bytes:
    return json.dumps({"sender": sender, "message": text, "metadata": metadata}).encode()


async def test_rasa_gets_redacted_text_and_only_the_servers_claim(
    webhook: RestWebhook, rasa: Rasa
) -> None:
    body = request(
        "conv-1",
        "my card 4111 1111 1111 1111",
        customer_token=issue_customer_token(TOKEN_KEY, A),
        crm_customer={"id": B, "sig": "0" * 64},
        locale="en",
    )
    reply = await webhook.handle(body, "10.0.0.1")
    assert (reply.status, json.loads(reply.body)) == (200, [])
    [message] = rasa.received
    assert (message.sender_id, message.text) == ("conv-1", "my card [CARD ending 1111]")
    assert message.input_channel == "rest"
    assert list(message.metadata) == ["crm_customer"]
    assert claimed_customer(CLAIM_KEY, "conv-1", message.metadata["crm_customer"]) == A


async def test_an_anonymous_message_reaches_rasa_without_identity(
    webhook: RestWebhook, rasa: Rasa
) -> None:
    reply = await webhook.handle(request("conv-1", "hello"), "10.0.0.1")
    assert reply.status == 200
    assert rasa.received[0].metadata == {}


@pytest.mark.parametrize(
    ("metadata", "status", "code"),
    [
        ({"customer_token": "forged"}, 401, "invalid_customer_token"),
        ({}, 403, "conversation_bound"),
        ({"customer_token": issue_customer_token(TOKEN_KEY, B)}, 403, "conversation_bound"),
    ],
    ids=["forged", "anonymous", "other_customer"],
)
async def test_a_refused_message_reaches_neither_rasa_nor_the_crm(
    webhook: RestWebhook, rasa: Rasa, seeded_store: CRMStore, metadata, status, code
) -> None:
    own = request("conv-1", "hi", customer_token=issue_customer_token(TOKEN_KEY, A))
    assert (await webhook.handle(own, "10.0.0.1")).status == 200
    before = seeded_store.conversations.get("conv-1")
    reply = await webhook.handle(request("conv-1", "show my payments", **metadata), "10.0.0.2")
    assert reply.status == status
    body = json.loads(reply.body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]
    assert len(rasa.received) == 1
    assert seeded_store.conversations.get("conv-1") == before


async def test_a_forged_token_creates_no_conversation(
    webhook: RestWebhook, seeded_store: CRMStore
) -> None:
    reply = await webhook.handle(request("conv-new", "hi", customer_token="forged"), "10.0.0.1")
    assert reply.status == 401
    with pytest.raises(NotFound):
        seeded_store.conversations.get("conv-new")


async def test_a_conversation_sending_too_fast_is_told_when_to_retry(webhook: RestWebhook) -> None:
    _, burst = PER_SENDER_RATE
    for _ in range(burst):
        assert (await webhook.handle(request("conv-1", "hi"), "10.0.0.1")).status == 200
    reply = await webhook.handle(request("conv-1", "hi"), "10.0.0.1")
    assert (reply.status, json.loads(reply.body)["error"]["code"]) == (429, "rate_limited")
    assert int(reply.headers["Retry-After"]) >= 1


async def test_a_failing_bot_is_a_503(seeded_store: CRMStore) -> None:
    gate = CustomerGate(seeded_store, TOKEN_KEY, CLAIM_KEY)
    webhook = RestWebhook(gate, CustomerRateLimits(), Rasa(fail=True))
    reply = await webhook.handle(request("conv-1", "hi"), "10.0.0.1")
    assert (reply.status, json.loads(reply.body)["error"]["code"]) == (503, "bot_unavailable")
