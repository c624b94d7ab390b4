"""The agent console at 1024x768 with the reply box open: the transcript keeps a usable
height and Resolve stays on screen and clickable. The screenshot is kept in docs/screenshots/.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.conftest import ADMIN_PASSWORD, Stack
from tests.e2e.test_browser import (
    agent_transcript,
    queue_item,
    save_screenshot,
    start_chromium,
    wait_for,
)

pytestmark = pytest.mark.e2e

SMALL_SCREEN = {"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": False}
MIN_TRANSCRIPT_PX = 200


def on_screen_and_on_top(driver: WebDriver, element_id: str) -> bool:
    """Whether the element lies inside the viewport and nothing covers its centre."""
    return driver.execute_script(
        """
        const node = document.getElementById(arguments[0]);
        const box = node.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) return false;
        if (box.top < 0 || box.left < 0) return false;
        if (box.bottom > window.innerHeight || box.right > window.innerWidth) return false;
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return hit === node || node.contains(hit);
        """,
        element_id,
    )


def test_the_console_is_usable_at_1024_by_768_with_the_reply_box_open(stack: Stack) -> None:
    conversation = f"e2e-1024-{uuid.uuid4().hex[:8]}"
    token = stack.api("POST", "/api/v1/customers/1/widget-token").body["token"]
    for text in ("hello", "where is my new card?", "I want to talk to a person"):
        stack.say(conversation, text, token)

    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
        agent = start_chromium(Path(profile))
        try:
            agent.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SMALL_SCREEN)
            agent.get(f"{stack.settings.console_url}/agent")
            agent.find_element(By.ID, "username").send_keys("admin")
            agent.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD, Keys.ENTER)
            wait_for(agent, lambda d: queue_item(d, "open", conversation), 10, "no handoff")
            wait_for(agent, lambda d: queue_item(d, "open", conversation).click() or True, 5)
            wait_for(agent, lambda d: len(agent_transcript(d)) >= 5, 10, "no transcript shown")
            agent.find_element(By.ID, "claim").click()
            reply = agent.find_element(By.ID, "reply")
            wait_for(agent, lambda _: reply.is_displayed(), 5, "claiming did not open the box")
            reply.send_keys("Hi, I'm looking into your card now.", Keys.ENTER)
            wait_for(
                agent,
                lambda d: any(sender == "agent" for sender, _ in agent_transcript(d)),
                5,
                "the reply is not in the transcript",
            )
            viewport = agent.execute_script("return [window.innerWidth, window.innerHeight]")
            assert viewport == [1024, 768]

            transcript = agent.find_element(By.ID, "transcript")
            assert transcript.size["height"] >= MIN_TRANSCRIPT_PX, transcript.size
            assert transcript.size["width"] >= 400, transcript.size
            resolve = agent.find_element(By.CSS_SELECTOR, "#resolve-form button[type=submit]")
            agent.execute_script("arguments[0].id = 'resolve-button'", resolve)
            assert resolve.is_displayed()
            assert on_screen_and_on_top(agent, "resolve-button")
            assert on_screen_and_on_top(agent, "reply")
            assert agent.find_element(By.ID, "packet").is_displayed()
            save_screenshot(agent, "agent-1024.png")

            agent.find_element(By.ID, "resolution").send_keys("Card is on its way; gave tracking.")
            resolve.click()
            wait_for(
                agent,
                lambda d: d.find_element(By.ID, "state-note").text.startswith("Resolved"),
                10,
                "clicking Resolve did not resolve the handoff",
            )
        finally:
            agent.quit()
