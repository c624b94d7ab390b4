"""Who may speak in, and hear from, a conversation: checked on every customer message.

Both customer channels ask the gate before Rasa sees a message. A conversation belongs to
at most one verified customer (bound in the CRM on their first verified message); after
that only a valid token for that customer may write to it or join its socket.io room.
The metadata Rasa gets back holds only the server's claim: the client's token and any
other key it sent are dropped, so none of them reaches the tracker store, the logs or the
CRM, and no client can write a claim of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.identity import CLAIM_FIELD, TOKEN_FIELD, make_claim, verified_customer
from bot.json_input import HttpError
from bot.settings import KeyPurpose, Settings


def invalid_token() -> HttpError:
    return HttpError(401, "invalid_customer_token", "The customer token is invalid or has expired.")


def conversation_bound() -> HttpError:
    return HttpError(
        403,
        "conversation_bound",
        "This conversation belongs to a signed-in customer; send their valid token.",
    )


class CustomerGate:
    """Verifies tokens, binds conversations and writes the claim, over one CRM store."""

    def __init__(self, store: CRMStore, token_key: str, claim_key: str) -> None:
        self.store = store
        self.token_key = token_key
        self.claim_key = claim_key

    @classmethod
    def from_settings(cls, settings: Settings) -> CustomerGate:
        """A gate with its own CRM store (one per channel, as the event broker has)."""
        return cls(
            CRMStore(create_crm_engine(settings.database_url)),
            settings.key_for(KeyPurpose.CUSTOMER_TOKEN),
            settings.key_for(KeyPurpose.CUSTOMER_CLAIM),
        )

    def _customer(self, token: object) -> int | None:
        """The customer a token names; None without a token; 401 for a token that fails."""
        if token is None:
            return None
        customer_id = verified_customer(self.token_key, token, self.store.customers.resolve)
        if customer_id is None:
            raise invalid_token()
        return customer_id

    def admit(self, conversation_id: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """The metadata Rasa may keep for this message, or an HttpError refusing it.

        A verified customer binds an unbound conversation and gets a claim; an anonymous
        message is let into an unbound conversation only, and carries no identity.
        """
        customer_id = self._customer(metadata.get(TOKEN_FIELD))
        if customer_id is None:
            if self.store.conversations.bound_customer(conversation_id) is not None:
                raise conversation_bound()
            return {}
        if self.store.conversations.bind(conversation_id, customer_id) != customer_id:
            raise conversation_bound()
        return {CLAIM_FIELD: make_claim(self.claim_key, conversation_id, customer_id)}

    def token_customer(self, token: object) -> int | None:
        """The customer a valid token names, else None (never raises: for bookkeeping)."""
        return verified_customer(self.token_key, token, self.store.customers.resolve)

    def may_join_as(self, conversation_id: str, customer_id: int | None) -> bool:
        """Whether a socket whose token named this customer (`token_customer`) may receive
        the conversation's messages: unbound ones are open to anyone, bound ones to their
        customer only."""
        bound = self.store.conversations.bound_customer(conversation_id)
        return bound is None or bound == customer_id

    def close(self) -> None:
        self.store.dispose()
