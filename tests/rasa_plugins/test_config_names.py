"""Rasa finds the plugins by the dotted names in credentials.yml and endpoints.yml.

A broker name Rasa cannot import only logs a warning and runs without the CRM feed, so
the names are checked here with Rasa's own loaders.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.brokers.broker import EventBroker
from rasa.core.run import create_http_input_channels
from rasa.utils.endpoints import EndpointConfig

from bot.crm.store import CRMStore
from bot.endpoints import render_endpoints
from bot.rasa_plugins.broker import CRMEventBroker
from bot.rasa_plugins.rest_channel import ValidatedRestInput
from bot.rasa_plugins.socketio_channel import CRMSocketIOInput
from bot.settings import PROJECT_ROOT, load_settings


async def test_the_endpoints_name_the_broker_rasa_loads(
    store: CRMStore, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_SECRET_KEY", "config-test-secret")
    rendered = render_endpoints(load_settings())["event_broker"]
    committed = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())["event_broker"]
    assert committed == rendered
    broker = await EventBroker.create(EndpointConfig.from_dict({**rendered, "url": database_url}))
    assert isinstance(broker, CRMEventBroker)
    assert broker.is_ready()
    await broker.close()


def test_the_credentials_name_the_customer_channels() -> None:
    channels = create_http_input_channels(None, str(PROJECT_ROOT / "credentials.yml"))
    assert {type(channel) for channel in channels} == {ValidatedRestInput, CRMSocketIOInput}
