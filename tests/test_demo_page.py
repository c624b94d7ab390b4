"""The demo page signs every visitor in as customer 1, so it is served only when asked for."""

from __future__ import annotations

import re

import pytest

from bot.console.app import init_app
from bot.crm.store import CRMStore
from bot.identity import customer_id_from_token
from bot.settings import KeyPurpose, load_settings

WIDGET_TOKEN = re.compile(r'<script src="/widget.js"[^>]*data-customer-token="([^"]*)"')


@pytest.fixture
def console(aiohttp_client, tmp_path, store: CRMStore):
    async def start(**env: str):
        settings = load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "s", **env})
        return settings, await aiohttp_client(await init_app(settings, store))

    return start


async def test_without_the_flag_the_home_page_hands_out_no_token(console) -> None:
    _, client = await console()

    page = await client.get("/")
    text = await page.text()

    assert page.status == 200
    assert "CRM_DEMO_SITE=1" in text
    assert 'href="/agent"' in text
    assert "customer-token" not in text
    assert "/widget.js" in text
    widget = await client.get("/widget.js")
    assert widget.status == 200
    assert "javascript" in widget.headers["Content-Type"]


async def test_with_the_flag_the_demo_page_signs_in_customer_1(console) -> None:
    settings, client = await console(CRM_DEMO_SITE="1")

    page = await client.get("/")
    token = WIDGET_TOKEN.search(await page.text()).group(1)

    assert page.headers["Cache-Control"] == "no-store"
    assert customer_id_from_token(settings.key_for(KeyPurpose.CUSTOMER_TOKEN), token) == 1
    assert customer_id_from_token(settings.secret_key, token) is None
