"""Rasa's endpoints.yml derived from the settings, so Rasa and the CRM share one configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT, Settings

HEADER = "# Generated from the settings (bot/endpoints.py): `crm run` writes var/endpoints.yml.\n"


def _tracker_store(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = Path(parsed.database)
        if database.is_relative_to(PROJECT_ROOT):
            database = database.relative_to(PROJECT_ROOT)
        return {"type": "SQL", "dialect": "sqlite", "db": str(database)}
    if backend != "postgresql":
        raise SystemExit(f"the tracker store must be SQLite or PostgreSQL, not {backend}")
    store = {
        "type": "SQL",
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
        "action_endpoint": {"url": f"{settings.action_url}/webhook"},
        "tracker_store": _tracker_store(settings.tracker_url),
        "event_broker": {"type": "bot.rasa_plugins.broker.CRMEventBroker"},
    }
    if settings.redis_url:
        redis = make_url(settings.redis_url)
        endpoints["lock_store"] = {
            "type": "redis",
            "url": redis.host or "localhost",
            "port": redis.port or 6379,
            "db": int(redis.database or 0),
        }
    return endpoints


def write_endpoints(settings: Settings, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + yaml.safe_dump(render_endpoints(settings), sort_keys=False))
    return path
