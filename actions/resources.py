"""The action server's one CRM repository, created on first use rather than at import time."""

from __future__ import annotations

from functools import lru_cache

from rasa_sdk import Tracker

from bot.crm.database import create_crm_engine
from bot.crm.identity import customer_id_from_token
from bot.crm.repository import CRMRepository
from bot.crm.ticket_search import TicketSearch
from bot.settings import Settings, load_settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def repository() -> CRMRepository:
    return CRMRepository(create_crm_engine(settings().database_url))


@lru_cache(maxsize=1)
def ticket_search() -> TicketSearch:
    """Reads the index the console writes; reloads it when the files change."""
    return TicketSearch(repository(), settings().similar_index_dir)


def identified_customer(tracker: Tracker) -> int | None:
    """The CRM customer named by the newest signed token in this conversation, if any."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        token = (event.get("metadata") or {}).get("customer_token")
        if token is None:
            continue
        customer_id = customer_id_from_token(settings().secret_key, token)
        if customer_id is not None and repository().customer_exists(customer_id):
            return customer_id
        return None
    return None


def recent_customer_text(tracker: Tracker, limit: int = 3) -> str:
    """The customer's last few messages, oldest first, for ticket descriptions."""
    texts = [
        event.get("text")
        for event in tracker.events
        if event.get("event") == "user" and event.get("text")
    ]
    return "\n".join(texts[-limit:])
