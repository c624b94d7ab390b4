"""The action server's strategy cache (bot.crm.strategy_cache), over its CRM store."""

from __future__ import annotations

from functools import lru_cache

from actions.resources import crm_store
from bot.crm.store import CRMStore
from bot.crm.strategy_cache import StrategyCache


@lru_cache(maxsize=1)
def _cache_for(store: CRMStore) -> StrategyCache:
    return StrategyCache(store.strategies)


def serving_strategies() -> StrategyCache:
    """The action server's cache, over its CRM store (a new store, a new cache)."""
    return _cache_for(crm_store())
