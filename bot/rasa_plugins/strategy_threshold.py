"""The frustration threshold of a message's customer, for nlp.rasa_sentiment.FrustrationDetector.

config.yml names `StrategyThresholds` as the detector's `customer_threshold`: on the Rasa
server it reads the customer from the claim the customer channels put in the message metadata
(bot/rasa_plugins/customer_gate.py) and answers their segment strategy's handoff threshold,
through the same stamp-checked cache the action server uses, so a message costs no query.

The NLU message carries no conversation id, so the claim's signature cannot be checked here;
the channels drop any client-sent claim and the API routes that take metadata are closed
(bot/rasa_server.py), and a wrong id could only lower the threshold that routes a message to
action_handoff, which verifies the claim before it hands anyone over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.crm.strategy_cache import StrategyCache
from bot.identity import CLAIM_FIELD
from bot.settings import load_settings

logger = logging.getLogger(__name__)


def claimed_id(metadata: Mapping[str, Any]) -> int | None:
    """The customer id of the message's claim, if it has one."""
    claim = metadata.get(CLAIM_FIELD)
    customer_id = claim.get("id") if isinstance(claim, Mapping) else None
    if isinstance(customer_id, int) and not isinstance(customer_id, bool):
        return customer_id
    return None


class StrategyThresholds:
    """Metadata -> the claimed customer's strategy threshold; None for anyone served by
    default. The CRM is opened on the first signed-in message, so training needs none."""

    def __init__(self, strategies: StrategyCache | None = None) -> None:
        if strategies is not None:
            self.__dict__["strategies"] = strategies

    @cached_property
    def strategies(self) -> StrategyCache:
        store = CRMStore(create_crm_engine(load_settings().database_url))
        return StrategyCache(store.strategies)

    def __call__(self, metadata: Mapping[str, Any]) -> float | None:
        customer_id = claimed_id(metadata)
        if customer_id is None:
            return None
        try:
            served = self.strategies.for_customer(customer_id)
        except SQLAlchemyError:
            logger.exception("CRM store is not reachable; the stock frustration threshold holds")
            return None
        return None if served.is_default else served.strategy.handoff_threshold
