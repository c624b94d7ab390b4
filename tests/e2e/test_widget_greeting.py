"""The widget never opens on an empty panel: a greeting heads a conversation with no messages."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.conftest import Stack
from tests.e2e.test_browser import start_chromium, transcript, wait_for, widget

pytestmark = pytest.mark.e2e


def test_the_panel_opens_with_a_greeting_on_an_empty_conversation(stack: Stack) -> None:
    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
        customer = start_chromium(Path(profile))
        try:
            customer.get(f"{stack.settings.console_url}/")
            root = widget(customer)
            root.find_element(By.CSS_SELECTOR, ".nw-launcher").send_keys(Keys.ENTER)
            welcome = root.find_element(By.CSS_SELECTOR, ".nw-welcome .nw-bubble")
            assert welcome.is_displayed()
            assert "assistant" in welcome.text and "person" in welcome.text
            assert transcript(root) == []
            # The greeting stays at the top once the conversation starts, and after a reload.
            root.find_element(By.CSS_SELECTOR, ".nw-input").send_keys("hello", Keys.ENTER)
            wait_for(customer, lambda _: len(transcript(widget(customer))) >= 2, 20, "no reply")
            customer.refresh()
            root = widget(customer)
            assert root.find_element(By.CSS_SELECTOR, ".nw-welcome .nw-bubble").is_displayed()
            assert transcript(root)[0] == ("customer", "hello")
        finally:
            customer.quit()
