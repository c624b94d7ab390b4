"""The action server's shared resources, created on first use rather than at import time."""

from __future__ import annotations

from functools import lru_cache

from actions.tracker_view import TrackerView
from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.crm.ticket_search import TicketSearch
from bot.identity import claimed_customer
from bot.settings import KeyPurpose, Settings, load_settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def crm_store() -> CRMStore:
    return CRMStore(create_crm_engine(settings().database_url))


@lru_cache(maxsize=1)
def ticket_search() -> TicketSearch:
    """Reads the index the console writes; reloads it when the files change."""
    return TicketSearch(crm_store().tickets, settings().similar_index_dir)


def identified_customer(view: TrackerView) -> int | None:
    """The customer the channel verified for the message being answered; None if anonymous.

    The claim is checked against this conversation id, so a claim copied from another
    conversation, or from an earlier message, names no one.
    """
    key = settings().key_for(KeyPurpose.CUSTOMER_CLAIM)
    return claimed_customer(key, view.conversation_id, view.latest_claim)
