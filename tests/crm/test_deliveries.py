"""The console's calls into Rasa in the CRM store: recorded with the change that owes them,
leased one at a time, in order per conversation, settled as Rasa answered."""

from __future__ import annotations

import threading

from bot.crm.enums import DeliveryKind, DeliveryStatus, Sender, StaffRole
from bot.crm.store import CRMStore
from tests.crm.test_conversations import record
from tests.crm.test_handoffs import open_handoff


def held_handoff(store: CRMStore, conversation: str) -> tuple[int, int]:
    ticket = open_handoff(store, conversation)
    agent = store.staff.create(f"agent-{conversation}", "password-123", StaffRole.AGENT).id
    store.handoffs.claim(ticket, agent)
    return ticket, agent


def test_a_reply_is_stored_with_its_pending_delivery(store: CRMStore) -> None:
    ticket, agent = held_handoff(store, "c1")
    message = store.handoffs.record_agent_message(
        ticket, agent, "Call [PHONE]", sent_text="Call 07700 900123", agent="ana"
    )
    delivery = store.deliveries.of_message(message["id"])
    assert (delivery["kind"], delivery["status"], delivery["attempts"]) == (
        DeliveryKind.AGENT_MESSAGE,
        DeliveryStatus.PENDING,
        0,
    )
    assert "text" not in delivery["payload"], "the unredacted text is only for the sender"
    assert store.deliveries.due(10) == [delivery["id"]]

    claimed = store.deliveries.claim(delivery["id"], "w1", 30)
    assert claimed["payload"]["text"] == "Call 07700 900123"
    assert claimed["payload"]["agent"] == "ana"
    assert claimed["payload"]["message_id"] == message["id"]
    assert store.deliveries.claim(delivery["id"], "w2", 30) is None, "leased by w1"
    assert store.deliveries.due(10) == []
    assert store.deliveries.delivered(delivery["id"], "w2") is None, "w2 holds no lease"

    done = store.deliveries.delivered(delivery["id"], "w1")
    assert (done["status"], done["attempts"]) == (DeliveryStatus.DELIVERED, 1)
    assert store.deliveries.claim(delivery["id"], "w1", 30) is None
    assert store.deliveries.unsettled("c1") == []


def test_a_conversation_s_deliveries_go_in_order(store: CRMStore) -> None:
    ticket, agent = held_handoff(store, "c1")
    other_ticket, other_agent = held_handoff(store, "c2")
    first = store.handoffs.record_agent_message(ticket, agent, "one")["id"]
    second = store.handoffs.record_agent_message(ticket, agent, "two")["id"]
    elsewhere = store.handoffs.record_agent_message(other_ticket, other_agent, "hi")["id"]
    first_id, second_id, elsewhere_id = (
        store.deliveries.of_message(m)["id"] for m in (first, second, elsewhere)
    )
    assert sorted(store.deliveries.due(10)) == [first_id, elsewhere_id]
    assert store.deliveries.claim(second_id, "w1", 30) is None, "the first must go first"

    store.deliveries.claim(first_id, "w1", 30)
    [retried] = store.deliveries.retry_later(first_id, "w1", "rasa down", 60, give_up=False)
    assert (retried["status"], retried["attempts"]) == (DeliveryStatus.PENDING, 1)
    assert retried["last_error"] == "rasa down"
    assert store.deliveries.due(10) == [elsewhere_id], "not due before its retry time"
    assert store.deliveries.claim(second_id, "w1", 30) is None, "still behind the first"

    store.deliveries.claim(first_id, "w1", 30)
    store.deliveries.delivered(first_id, "w1")
    assert sorted(store.deliveries.due(10)) == [second_id, elsewhere_id]


def test_an_expired_lease_lets_another_worker_take_over(store: CRMStore) -> None:
    ticket, agent = held_handoff(store, "c1")
    message = store.handoffs.record_agent_message(ticket, agent, "hello")
    delivery_id = store.deliveries.of_message(message["id"])["id"]
    assert store.deliveries.claim(delivery_id, "dead-worker", 0) is not None
    assert store.deliveries.due(10) == [delivery_id]
    assert store.deliveries.claim(delivery_id, "w2", 30) is not None
    assert store.deliveries.delivered(delivery_id, "dead-worker") is None
    assert store.deliveries.delivered(delivery_id, "w2")["status"] == DeliveryStatus.DELIVERED


def test_of_racing_claims_exactly_one_wins(store: CRMStore) -> None:
    ticket, agent = held_handoff(store, "c1")
    message = store.handoffs.record_agent_message(ticket, agent, "hello")
    delivery_id = store.deliveries.of_message(message["id"])["id"]
    won: list[str] = []

    def claim(worker: str) -> None:
        if store.deliveries.claim(delivery_id, worker, 30) is not None:
            won.append(worker)

    threads = [threading.Thread(target=claim, args=(f"w{index}",)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(won) == 1


def test_the_conversation_is_the_bot_s_only_once_rasa_confirmed_the_resume(
    store: CRMStore,
) -> None:
    ticket, agent = held_handoff(store, "c1")
    store.handoffs.resolve(ticket, agent, "done", return_to_bot=True)
    resume, prompt = store.deliveries.of_ticket(ticket)
    assert (resume["kind"], prompt["kind"]) == (DeliveryKind.RESUME, DeliveryKind.RATING_PROMPT)
    assert prompt["payload"] == {"intent": "give_feedback"}
    assert store.conversations.get("c1")["status"] == "handoff", "resume still pending"
    assert [d["kind"] for d in store.deliveries.unsettled("c1")] == ["resume", "rating_prompt"]
    assert store.deliveries.due(10) == [resume["id"]]

    store.deliveries.claim(resume["id"], "w1", 30)
    store.deliveries.retry_later(resume["id"], "w1", "rasa down", 0, give_up=False)
    assert store.conversations.get("c1")["status"] == "handoff"
    store.deliveries.claim(resume["id"], "w1", 30)
    store.deliveries.delivered(resume["id"], "w1")
    assert store.conversations.get("c1")["status"] == "bot"
    assert store.deliveries.due(10) == [prompt["id"]]


def test_a_failed_resume_leaves_the_conversation_with_staff_and_drops_the_prompt(
    store: CRMStore,
) -> None:
    ticket, agent = held_handoff(store, "c1")
    store.handoffs.resolve(ticket, agent, "done", return_to_bot=True)
    resume, prompt = store.deliveries.of_ticket(ticket)
    store.deliveries.claim(resume["id"], "w1", 30)
    changed = store.deliveries.retry_later(resume["id"], "w1", "rasa down", 0, give_up=True)
    assert [(d["kind"], d["status"]) for d in changed] == [
        ("resume", "failed"),
        ("rating_prompt", "failed"),
    ]
    assert store.conversations.get("c1")["status"] == "handoff"
    assert store.deliveries.due(10) == []
    assert [d["status"] for d in store.deliveries.unsettled("c1")] == ["failed", "failed"]


def test_return_to_bot_false_closes_without_resume_or_prompt(store: CRMStore) -> None:
    ticket, agent = held_handoff(store, "c1")
    store.handoffs.resolve(ticket, agent, "done", return_to_bot=False)
    assert store.deliveries.of_ticket(ticket) == []
    assert store.conversations.get("c1")["status"] == "closed"


def test_missed_messages_are_the_bot_s_and_agents_after_a_point(store: CRMStore) -> None:
    for index, sender in enumerate([Sender.CUSTOMER, Sender.BOT, Sender.CUSTOMER, Sender.BOT]):
        store.conversations.record_message(
            record("c1", f"k{index}", index, sender, data={"buttons": []} if index == 3 else None)
        )
    store.conversations.record_message(record("c2", "other", 5, Sender.BOT))
    ticket, agent = held_handoff(store, "c1")
    reply = store.handoffs.record_agent_message(ticket, agent, "I'm Ana")
    first_bot = store.conversations.get("c1")["messages"][1]

    missed = store.deliveries.missed_messages("c1", 0, 50)
    assert [(m["sender"], m["text"]) for m in missed] == [
        ("bot", "bot says k1"),
        ("bot", "bot says k3"),
        ("agent", "I'm Ana"),
    ]
    assert missed[-1]["agent"] == "agent-c1" and missed[-1]["id"] == reply["id"]
    assert missed[0]["agent"] is None and missed[0]["id"] == first_bot["id"]
    after_first = store.deliveries.missed_messages("c1", missed[0]["seq"], 50)
    assert [m["text"] for m in after_first] == ["bot says k3", "I'm Ana"]
    assert [m["text"] for m in store.deliveries.missed_messages("c1", 0, 2)] == [
        "bot says k3",
        "I'm Ana",
    ], "the newest, oldest first"
    assert store.deliveries.missed_messages("c1", 1e12, 50) == []


def test_purge_deletes_the_conversations_deliveries(store: CRMStore) -> None:
    ticket, agent = held_handoff(store, "c1")
    other_ticket, other_agent = held_handoff(store, "c2")
    store.handoffs.record_agent_message(ticket, agent, "one")
    store.handoffs.record_agent_message(other_ticket, other_agent, "two")
    assert store.deliveries.purge(["c1"]) == 1
    assert store.deliveries.unsettled("c1") == []
    assert len(store.deliveries.unsettled("c2")) == 1
