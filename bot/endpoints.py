"""Rasa's endpoints.yml derived from the settings, so Rasa and the CRM share one configuration.

The generated file carries the action server's key (and any database password), so it is
written with mode 0600, to var/ by default; the committed endpoints.yml is an example for the
default settings without the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT, KeyPurpose, Settings

HEADER = "# Generated from the settings (bot/endpoints.py): `crm run` writes var/endpoints.yml.\n"
ACTION_KEY_HEADER = "X-CRM-Action-Key"
"""Rasa sends `key_for(ACTION_SERVER)` in it; the action server refuses calls without it."""


TRACKER_STORE = "bot.rasa_plugins.tracker_store.IncrementalSQLTrackerStore"
"""Rasa's SQL store, reading only the rows a turn has not seen (see that module)."""


def _tracker_store(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = Path(parsed.database)
        if database.is_relative_to(PROJECT_ROOT):
            database = database.relative_to(PROJECT_ROOT)
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": str(database)}
    if backend != "postgresql":
        raise SystemExit(f"the tracker store must be SQLite or PostgreSQL, not {backend}")
    store = {
        "type": TRACKER_STORE,
        "dialect": "postgresql",
        "url": parsed.host or "localhost",
        "port": parsed.port or 5432,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
    }
    return {key: value for key, value in store.items() if value is not None}


def render_endpoints(settings: Settings) -> dict[str, Any]:
    endpoints: dict[str, Any] = {
        "action_endpoint": {
            "url": f"{settings.action_url}/webhook",
            "headers": {ACTION_KEY_HEADER: settings.key_for(KeyPurpose.ACTION_SERVER)},
        },
        "tracker_store": _tracker_store(settings.tracker_url),
        "event_broker": {"type": "bot.rasa_plugins.broker.CRMEventBroker"},
    }
    if settings.redis_url:
        redis = make_url(settings.redis_url)
        endpoints["lock_store"] = {
            "type": "bot.rasa_plugins.lock_store.AtomicRedisLockStore",
            "url": redis.host or "localhost",
            "port": redis.port or 6379,
            "db": int(redis.database or 0),
        }
    return endpoints


def write_endpoints(settings: Settings, path: Path) -> Path:
    """Write the file readable by its owner only (also when an older one was not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(HEADER + yaml.safe_dump(render_endpoints(settings), sort_keys=False))
    return path
