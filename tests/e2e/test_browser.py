"""Two headless Chromium windows on the real stack: a customer in the widget, an agent at /agent.

The customer chats with the bot on the demo page, reloads, asks for a person; the agent sees
the handoff arrive live, claims it, reads the transcript beside the packet and answers; the
reply reaches the widget as an agent's message; the agent resolves and the customer rates the
help. Screenshots of both windows are kept in docs/screenshots/.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.shadowroot import ShadowRoot
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import ADMIN_PASSWORD, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
BOT_TIMEOUT_S = 20
AGENT_REPLY_TIMEOUT_S = 2
QUIET_S = 1.0
T = TypeVar("T")


def start_chromium(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORT)
    return driver


@pytest.fixture
def browsers() -> Iterator[Callable[[], WebDriver]]:
    """Starts independent browsers (each with a fresh profile) and quits them all afterwards."""
    drivers: list[WebDriver] = []
    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profiles:

        def start() -> WebDriver:
            drivers.append(start_chromium(Path(profiles) / f"profile-{len(drivers)}"))
            return drivers[-1]

        yield start
        for driver in drivers:
            driver.quit()


def wait_for(
    driver: WebDriver, condition: Callable[[WebDriver], T], timeout: float, failure: str = ""
) -> T:
    """Polls `condition`; pages re-render, so a vanished element just means "try again"."""
    wait = WebDriverWait(
        driver,
        timeout,
        poll_frequency=0.05,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    return wait.until(condition, failure)


# ------------------------------------------------------------------------ customer widget


def widget(driver: WebDriver) -> ShadowRoot:
    """The widget's shadow root, once its stylesheet has loaded and it is shown."""

    def ready(driver: WebDriver) -> ShadowRoot | None:
        hosts = driver.find_elements(By.ID, "northwind-chat")
        if not hosts:
            return None
        root = hosts[0].shadow_root
        launcher = root.find_elements(By.CSS_SELECTOR, ".nw-launcher")
        return root if launcher and launcher[0].is_displayed() else None

    return wait_for(driver, ready, 10)


def bubbles(root: ShadowRoot, speaker: str) -> list[str]:
    return [
        node.text for node in root.find_elements(By.CSS_SELECTOR, f".nw-from-{speaker} .nw-bubble")
    ]


def transcript(root: ShadowRoot) -> list[tuple[str, str]]:
    rows = []
    for row in root.find_elements(By.CSS_SELECTOR, ".nw-log .nw-msg"):
        speaker = next(
            name
            for name in ("customer", "bot", "agent", "system")
            if f"nw-from-{name}" in (row.get_attribute("class") or "")
        )
        text = row.find_elements(By.CSS_SELECTOR, ".nw-bubble")
        rows.append((speaker, text[0].text if text else ""))
    return rows


def say(driver: WebDriver, text: str) -> None:
    """Type into the widget and press Enter; the typing indicator shows until the answer."""
    root = widget(driver)
    box = root.find_element(By.CSS_SELECTOR, ".nw-input")
    box.send_keys(text, Keys.ENTER)


def wait_for_bot(driver: WebDriver, count: int) -> list[str]:
    """Waits for at least `count` bot messages and then for the bot to finish its turn.

    The bot may answer one message with several; the turn is over when no new message has
    arrived for QUIET_S.
    """
    replies = wait_for(
        driver,
        lambda d: (texts := bubbles(widget(d), "bot")) and len(texts) >= count and texts,
        BOT_TIMEOUT_S,
        f"the widget did not show {count} bot messages",
    )
    while True:
        time.sleep(QUIET_S)
        latest = bubbles(widget(driver), "bot")
        if latest == replies:
            return replies
        replies = latest


def stored_session(driver: WebDriver) -> dict:
    raw = driver.execute_script(
        "const key = Object.keys(sessionStorage).find(k => k.startsWith('northwind-chat:'));"
        "return key ? sessionStorage.getItem(key) : null;"
    )
    assert raw, "the widget stored nothing in sessionStorage"
    return json.loads(raw)


# -------------------------------------------------------------------------- agent console


def agent_queue(driver: WebDriver, name: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, f"#{name}-list .handoff")


def queue_item(driver: WebDriver, name: str, conversation_id: str) -> WebElement | None:
    selector = f'#{name}-list .handoff[data-conversation-id="{conversation_id}"]'
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0] if found else None


def queued_handoff_id(driver: WebDriver, name: str, conversation_id: str) -> str | None:
    item = queue_item(driver, name, conversation_id)
    return item.get_attribute("data-handoff-id") if item else None


def agent_transcript(driver: WebDriver) -> list[tuple[str, str]]:
    rows = []
    for row in driver.find_elements(By.CSS_SELECTOR, "#transcript .message"):
        sender = (row.get_attribute("class") or "").split("from-")[-1]
        rows.append((sender, row.find_element(By.CSS_SELECTOR, ".message-text").text))
    return rows


def packet_section(driver: WebDriver, title: str) -> WebElement:
    for section in driver.find_elements(By.CSS_SELECTOR, "#packet .packet-section"):
        if section.find_element(By.TAG_NAME, "h2").text.lower() == title.lower():
            return section
    raise AssertionError(f"the packet has no section {title!r}")


def save_screenshot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / name)), f"could not save {name}"


# ---------------------------------------------------------------------------------- test


def test_a_customer_reaches_a_person_through_the_widget(
    stack: Stack, browsers: Callable[[], WebDriver]
) -> None:
    console = stack.settings.console_url
    customer, agent = browsers(), browsers()

    # The customer opens the demo bank page and chats with the bot in the widget.
    customer.get(f"{console}/")
    root = widget(customer)
    launcher = root.find_element(By.CSS_SELECTOR, ".nw-launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.send_keys(Keys.ENTER)
    assert launcher.get_attribute("aria-expanded") == "true"
    panel = root.find_element(By.CSS_SELECTOR, ".nw-panel")
    assert panel.is_displayed()
    assert root.find_element(By.CSS_SELECTOR, "[role=log]").get_attribute("aria-live") == "polite"

    say(customer, "hello")
    assert root.find_element(By.CSS_SELECTOR, ".nw-typing").is_displayed()
    greeting = wait_for_bot(customer, 1)
    assert not root.find_element(By.CSS_SELECTOR, ".nw-typing").is_displayed()
    say(customer, "where is my new card?")
    answers = wait_for_bot(customer, len(greeting) + 1)
    assert "card" in " ".join(answers[len(greeting) :]).lower()
    before_reload = transcript(root)
    assert [text for speaker, text in before_reload if speaker == "customer"] == [
        "hello",
        "where is my new card?",
    ]
    session_id = stored_session(customer)["sessionId"]
    assert session_id

    # A reload keeps the session and shows the same conversation.
    customer.refresh()
    root = widget(customer)
    assert root.find_element(By.CSS_SELECTOR, ".nw-panel").is_displayed()
    assert transcript(root) == before_reload
    wait_for(customer, lambda d: stored_session(d)["sessionId"] == session_id, 5)

    # The agent signs in before the customer asks for a person.
    agent.get(f"{console}/agent")
    agent.find_element(By.ID, "username").send_keys("admin")
    agent.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD, Keys.ENTER)
    wait_for(agent, lambda d: d.find_element(By.ID, "live-status").text == "Live", 10)

    bot_messages = len(bubbles(root, "bot"))
    say(customer, "I want to talk to a person")
    handoff_notice = wait_for_bot(customer, bot_messages + 1)[-1]
    assert "queue" in handoff_notice.lower()

    # The handoff appears in the agent's queue live, with its waiting time.
    wait_for(
        agent,
        lambda d: queued_handoff_id(d, "open", session_id),
        10,
        "the handoff did not appear in the agent's queue",
    )
    wait_for(
        agent,
        lambda d: (
            queue_item(d, "open", session_id)
            .find_element(By.CSS_SELECTOR, ".handoff-meta")
            .text.startswith("waiting ")
        ),
        5,
        "the queue does not show the waiting time",
    )

    # Another customer, whose card was stolen, asks for a person too: their urgent handoff
    # arrives live and goes ahead in the queue, as the API orders it.
    other = f"e2e-browser-{uuid.uuid4().hex[:8]}"
    other_token = stack.api("POST", "/api/v1/customers/2/widget-token").body["token"]
    stack.say(other, "my card was stolen", other_token)
    stack.say(other, "I want to talk to a person", other_token)
    wait_for(agent, lambda d: queued_handoff_id(d, "open", other), 10, "no live update")
    open_handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    by_conversation = {h["conversation_id"]: str(h["id"]) for h in open_handoffs}
    assert list(by_conversation).index(other) < list(by_conversation).index(session_id)
    wait_for(
        agent,
        lambda d: (
            [i.get_attribute("data-handoff-id") for i in agent_queue(d, "open")]
            == list(by_conversation.values())
        ),
        5,
        "the queue is not in the API's order",
    )
    handoff_id = by_conversation[session_id]
    profile = stack.api("GET", "/api/v1/customers/1").body

    # Selecting it shows the transcript beside the packet; claiming it opens the reply box.
    wait_for(agent, lambda d: queue_item(d, "open", session_id).click() or True, 5)
    wait_for(agent, lambda d: len(agent_transcript(d)) >= 6, 10, "no transcript shown")
    said = [text for sender, text in agent_transcript(agent) if sender == "customer"]
    assert said == ["hello", "where is my new card?", "I want to talk to a person"]
    reason = packet_section(agent, "Why they're here")
    assert "asked for a person" in reason.find_element(By.CSS_SELECTOR, ".reason").text
    assert reason.find_element(By.CSS_SELECTOR, ".summary").text.strip()
    assert profile["name"] in packet_section(agent, "Customer").text
    intents = packet_section(agent, "Intents").text
    assert "ask for human" in intents and "%" in intents
    assert "card arrival" in packet_section(agent, "What the bot tried").text
    assert "Trend:" in packet_section(agent, "Sentiment").text
    assert packet_section(agent, "Entities and slots").is_displayed()
    assert packet_section(agent, "Similar resolved tickets").is_displayed()
    assert not agent.find_element(By.ID, "composer").is_displayed()

    agent.find_element(By.ID, "claim").click()
    reply_box = agent.find_element(By.ID, "reply")
    wait_for(agent, lambda _: reply_box.is_displayed(), 5, "claiming did not open the reply box")
    wait_for(agent, lambda d: queue_item(d, "mine", session_id), 5, "the claim is not in 'Mine'")

    # A canned reply fills the box and Enter sends it: the widget shows it, as the agent's.
    agent.find_element(By.CSS_SELECTOR, ".canned-reply").click()
    greeting = reply_box.get_attribute("value")
    assert "I'm admin from the Northwind team" in greeting
    assert greeting.split(",")[0].removeprefix("Hi ") in profile["name"].split()
    reply_box.send_keys(Keys.ENTER)
    started = time.monotonic()
    wait_for(
        customer,
        lambda d: greeting in bubbles(widget(d), "agent"),
        AGENT_REPLY_TIMEOUT_S,
        "the agent's reply did not reach the widget in time",
    )
    assert time.monotonic() - started < AGENT_REPLY_TIMEOUT_S
    agent_row = root.find_element(By.CSS_SELECTOR, ".nw-from-agent")
    assert "admin" in agent_row.find_element(By.CSS_SELECTOR, ".nw-who").text
    bot_bubble = root.find_element(By.CSS_SELECTOR, ".nw-from-bot .nw-bubble")
    agent_bubble = agent_row.find_element(By.CSS_SELECTOR, ".nw-bubble")
    assert agent_bubble.value_of_css_property(
        "background-color"
    ) != bot_bubble.value_of_css_property("background-color")
    assert "admin" in root.find_element(By.CSS_SELECTOR, ".nw-status").text
    wait_for(agent, lambda d: ("agent", greeting) in agent_transcript(d), 5)

    # Text that looks like markup stays text, both ways; the paused bot does not answer.
    hint = "Your new card is on its way: you can follow it under <Cards> in the app."
    reply_box.send_keys(hint, Keys.ENTER)
    wait_for(customer, lambda d: hint in bubbles(widget(d), "agent"), AGENT_REPLY_TIMEOUT_S)
    bot_messages = len(bubbles(root, "bot"))
    question = "Found it under <Cards>, thanks! Is my old card blocked as well?"
    say(customer, question)
    wait_for(agent, lambda d: ("customer", question) in agent_transcript(d), 30, "not live")
    assert not root.find_elements(By.CSS_SELECTOR, ".nw-log cards")
    assert not agent.find_elements(By.CSS_SELECTOR, "#transcript cards")
    assert transcript(root)[-1] == ("customer", question)
    assert agent_transcript(agent)[-1] == ("customer", question)
    assert len(bubbles(root, "bot")) == bot_messages
    save_screenshot(agent, "agent.png")

    # The agent resolves and hands back to the bot, which asks the customer for a rating.
    agent.find_element(By.ID, "resolution").send_keys("Card in the post; old card already blocked.")
    assert agent.find_element(By.ID, "return-to-bot").is_selected()
    agent.find_element(By.CSS_SELECTOR, "#resolve-form button[type=submit]").click()
    wait_for(agent, lambda d: "Resolved" in d.find_element(By.ID, "alert").text, 10)
    ratings = wait_for(
        customer,
        lambda d: (
            (buttons := widget(d).find_elements(By.CSS_SELECTOR, ".nw-csat .nw-reply")) and buttons
        ),
        BOT_TIMEOUT_S,
        "the widget shows no CSAT prompt",
    )
    assert [button.text for button in ratings] == ["1", "2", "3", "4", "5"]
    save_screenshot(customer, "widget.png")

    bot_messages = len(bubbles(root, "bot"))
    ratings[-1].click()
    thanks = wait_for_bot(customer, bot_messages + 1)[-1]
    assert "thank" in thanks.lower()
    assert not root.find_elements(By.CSS_SELECTOR, ".nw-csat")

    def rated(_: WebDriver) -> bool:
        resolved = stack.api("GET", "/api/v1/handoffs?status=resolved").body["handoffs"]
        return any(str(h["id"]) == handoff_id and h["csat"] == 5 for h in resolved)

    wait_for(customer, rated, 10)

    # Leave the queue as the other tests expect it.
    other_id = by_conversation[other]
    assert stack.api("POST", f"/api/v1/handoffs/{other_id}/claim").status == 200
    done = {"resolution": "Closed by the browser test.", "return_to_bot": True}
    assert stack.api("POST", f"/api/v1/handoffs/{other_id}/resolve", done).status == 200
