"""Who may speak in, and hear from, a conversation: checked on every customer message.

Both customer channels ask the gate before Rasa sees a message. A conversation belongs to
at most one verified customer (bound in the CRM on their first verified message); after
that only a valid token for that customer may write to it or join its socket.io room.
The metadata Rasa gets back holds only the server's claim: the client's token and any
other key it sent are dropped, so none of them reaches the tracker store, the logs or the
CRM, and no client can write a claim of its own.

Customers keep getting answers while the CRM store is down or locked: the gate's store
gives up after `GATE_TIMEOUT_S`, and a message it cannot check goes on as anonymous (no
claim, so no action reads account data for it; logged). When the store could be read (a
SQLite file locked by a writer still reads) but the binding not written, the customer keeps
their claim and the binding goes through the outbox, signed, ahead of the turn's messages.
A socket whose session cannot be checked is given a fresh session rather than joined to one
it may not hear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.identity import CLAIM_FIELD, TOKEN_FIELD, make_claim, verified_customer
from bot.json_input import HttpError
from bot.outbox.local import EntryKind, LocalOutbox, shared_outbox
from bot.settings import KeyPurpose, Settings

logger = logging.getLogger(__name__)

GATE_TIMEOUT_S = 2
"""How long one message may wait for the CRM store before it goes on as anonymous."""


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    """Runs after the CRM's own connect hook and shortens its 10 s busy timeout."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={GATE_TIMEOUT_S * 1000}")
    cursor.close()


def gate_engine(url: str) -> Engine:
    """The CRM store's engine with every wait bounded by `GATE_TIMEOUT_S`: a locked SQLite
    file, a PostgreSQL that does not answer or a lock held by a batch job all fail fast."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_crm_engine(url)
        event.listen(engine, "connect", _short_busy_timeout)
        return engine
    given = parsed.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    limit_ms = GATE_TIMEOUT_S * 1000
    options = f"{given} -c statement_timeout={limit_ms} -c lock_timeout={limit_ms}".strip()
    return create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        pool_timeout=GATE_TIMEOUT_S,
        connect_args={"connect_timeout": GATE_TIMEOUT_S, "options": options},
    )


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

    def __init__(
        self,
        store: CRMStore,
        token_key: str,
        claim_key: str,
        outbox: Callable[[], LocalOutbox] | None = None,
    ) -> None:
        self.store = store
        self.token_key = token_key
        self.claim_key = claim_key
        self.outbox = outbox
        """This process's outbox, for a binding the store would not take; without one such
        a message goes on as anonymous."""

    @classmethod
    def from_settings(cls, settings: Settings) -> CustomerGate:
        """A gate with its own CRM store (one per channel, as the event broker has)."""
        return cls(
            CRMStore(gate_engine(settings.database_url)),
            settings.key_for(KeyPurpose.CUSTOMER_TOKEN),
            settings.key_for(KeyPurpose.CUSTOMER_CLAIM),
            outbox=lambda: shared_outbox(settings),
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
        message is let into an unbound conversation only, and carries no identity. With the
        store unavailable the message goes on as anonymous.
        """
        try:
            return self._admit(conversation_id, metadata)
        except SQLAlchemyError as error:
            logger.warning(
                "CRM store unavailable (%s); %s goes on without a claim",
                type(error).__name__,
                conversation_id,
            )
            return {}

    def _admit(self, conversation_id: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
        customer_id = self._customer(metadata.get(TOKEN_FIELD))
        bound = self.store.conversations.bound_customer(conversation_id)
        if customer_id is None:
            if bound is not None:
                raise conversation_bound()
            return {}
        claim = make_claim(self.claim_key, conversation_id, customer_id)
        if bound is None:
            try:
                bound = self.store.conversations.bind(conversation_id, customer_id)
            except SQLAlchemyError:
                if self.outbox is None:
                    raise
                payload = {"conversation_id": conversation_id, "claim": claim}
                self.outbox().append(EntryKind.BIND, conversation_id, payload)
                logger.warning("%s is bound through the outbox: the store is busy", conversation_id)
                bound = customer_id
        if bound != customer_id:
            raise conversation_bound()
        return {CLAIM_FIELD: claim}

    def token_customer(self, token: object) -> int | None:
        """The customer a valid token names, else None (never raises: for bookkeeping; a
        store that cannot be read makes the socket anonymous)."""
        try:
            return verified_customer(self.token_key, token, self.store.customers.resolve)
        except SQLAlchemyError:
            logger.warning("CRM store unavailable; the socket's token is not checked")
            return None

    def may_join_as(self, conversation_id: str, customer_id: int | None) -> bool:
        """Whether a socket whose token named this customer (`token_customer`) may receive
        the conversation's messages: unbound ones are open to anyone, bound ones to their
        customer only; none while the store cannot tell."""
        try:
            bound = self.store.conversations.bound_customer(conversation_id)
        except SQLAlchemyError:
            logger.warning("CRM store unavailable; %s is not joined", conversation_id)
            return False
        return bound is None or bound == customer_id

    def close(self) -> None:
        self.store.dispose()
