"""A supervisor at the agent console: handoffs claimed by others are listed, and one held by an
absent agent is released to the queue, then reassigned; the API's audit log has both moves."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import ADMIN_PASSWORD, Stack, http
from tests.e2e.test_browser import queue_item, save_screenshot, start_chromium, wait_for

pytestmark = pytest.mark.e2e

AGENT_PASSWORD = "absent-agent-password"


def absent_agent_claims(stack: Stack, conversation: str) -> tuple[int, int]:
    """A new agent claims the conversation's handoff and goes away; (handoff id, agent id)."""
    username = f"away-{uuid.uuid4().hex[:6]}"
    body = {"username": username, "password": AGENT_PASSWORD, "role": "agent"}
    agent_id = stack.api("POST", "/api/v1/staff", body).body["id"]
    login = http(
        "POST",
        f"{stack.settings.console_url}/api/v1/auth/login",
        json.dumps({"username": username, "password": AGENT_PASSWORD}).encode(),
    )
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    handoff_id = next(h["id"] for h in handoffs if h["conversation_id"] == conversation)
    claim = http(
        "POST",
        f"{stack.settings.console_url}/api/v1/handoffs/{handoff_id}/claim",
        token=login.body["token"],
    )
    assert claim.status == 200, claim.body
    return handoff_id, agent_id


def test_a_supervisor_releases_and_reassigns_an_absent_agents_handoff(stack: Stack) -> None:
    conversation = f"e2e-super-{uuid.uuid4().hex[:8]}"
    token = stack.api("POST", "/api/v1/customers/2/widget-token").body["token"]
    stack.say(conversation, "my transfer has not arrived", token)
    stack.say(conversation, "I want to talk to a person", token)
    handoff_id, away_id = absent_agent_claims(stack, conversation)

    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
        boss = start_chromium(Path(profile))
        try:
            boss.get(f"{stack.settings.console_url}/agent")
            boss.find_element(By.ID, "username").send_keys("admin")
            boss.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD, Keys.ENTER)
            wait_for(boss, lambda d: queue_item(d, "others", conversation), 10, "not in others")
            # The queues re-render on every live event: click whichever button is there now.
            wait_for(boss, lambda d: queue_item(d, "others", conversation).click() or True, 5)
            wait_for(boss, lambda d: d.find_element(By.ID, "supervise").is_displayed(), 5)
            assert "Claimed by away-" in boss.find_element(By.ID, "supervise-holder").text
            save_screenshot(boss, "supervisor-claimed-by-others.png")

            boss.find_element(By.ID, "release").click()
            wait_for(boss, lambda d: queue_item(d, "open", conversation), 10, "not released")
            assert stack.api("GET", "/api/v1/handoffs?status=open").status == 200

            # The absent agent's claim again, then a reassignment to the supervisor.
            claim_again = http(
                "POST",
                f"{stack.settings.console_url}/api/v1/handoffs/{handoff_id}/reassign",
                json.dumps({"staff_id": away_id}).encode(),
                stack.staff_token,
            )
            assert claim_again.status == 200, claim_again.body
            wait_for(boss, lambda d: queue_item(d, "others", conversation), 10, "not held")
            wait_for(boss, lambda d: queue_item(d, "others", conversation).click() or True, 5)
            wait_for(boss, lambda d: d.find_element(By.ID, "supervise").is_displayed(), 5)
            Select(boss.find_element(By.ID, "reassign-to")).select_by_visible_text("admin (admin)")
            boss.find_element(By.ID, "reassign").click()
            wait_for(boss, lambda d: queue_item(d, "mine", conversation), 10, "not reassigned")
            wait_for(boss, lambda d: d.find_element(By.ID, "reply").is_displayed(), 5)
        finally:
            boss.quit()

    audit = stack.api("GET", "/api/v1/audit?limit=50").body["entries"]
    moves = [(e["action"], e["detail"]) for e in audit if e["target_id"] == str(handoff_id)]
    assert ("release_handoff", {"from_staff_id": away_id}) in moves
    assert ("reassign_handoff", {"from_staff_id": None, "to_staff_id": away_id}) in moves
    assert any(
        action == "reassign_handoff" and detail["from_staff_id"] == away_id
        for action, detail in moves
    )
