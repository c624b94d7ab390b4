"""The supervisors' dashboard in headless Chromium, on the real console and the seeded demo.

The demo store is seeded, a few conversations of another channel are added (one the bot kept
failing, one with a low-confidence answer), and the analytics roll-up, quality rules and inbox
collection run. An agent who signs in is told the page is for supervisors. A supervisor signs
in: every KPI tile shows the number GET /api/v1/analytics/summary gives for the same filters;
the channel filter changes them to that channel's numbers (and goes into the URL); a tile
drills down to its conversations and one of them to its transcript; a CSV download is the
API's CSV; the topics are the API's; a flag is reviewed from the queue; a retrain is started
(with nothing labelled yet, so no model is trained) and its run followed; an inbox group is
labelled and another dismissed. The layout is checked
for overflow at 1366x768 and 1024x768; screenshots are kept in docs/screenshots/.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from bot.crm.database import create_crm_engine
from bot.crm.enums import JobTrigger, Sender, StaffRole
from bot.crm.seed import seed_demo
from bot.crm.store import CRMStore
from bot.jobs.registry import JOBS
from bot.jobs.runner import run_job
from bot.settings import load_settings
from bot.setup import prepare_store
from tests.e2e.conftest import http
from tests.e2e.helpers import fill_sign_in, fresh_env, record_turn, running_console, sign_in
from tests.e2e.test_browser import save_screenshot, start_chromium, wait_for

pytestmark = pytest.mark.e2e

SUPERVISOR, SUPERVISOR_PASSWORD = "sam", "sam-supervisor-password"
AGENT, AGENT_PASSWORD = "dana", "dana-agent-password"
JOBS_TO_RUN = ("segmentation", "strategies", "analytics", "topics")
"""What the dashboard reads (segments for the filter, facts, flags, inbox, topics); the
retrain job is left out: it trains a Rasa model."""
CHANNEL = "rest"
WIDE = {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False}
NARROW = {"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": False}
PAGE_S = 15
DOWNLOAD_S = 15
RETRAIN_S = 120
Turn = tuple[Sender, str, str | None, float | None, float | None]
"""sender, text, intent, confidence, sentiment."""
CONVERSATIONS: dict[str, tuple[int | None, list[Turn]]] = {
    # conversation id: (customer id, or None for an anonymous visitor; turns)
    "e2e-sup-card": (
        1,
        [
            (Sender.CUSTOMER, "hello", "greet", 0.97, 0.0),
            (Sender.BOT, "Hi! How can I help?", None, None, None),
            (Sender.CUSTOMER, "where is my new card?", "card_arrival", 0.93, 0.0),
            (Sender.BOT, "Your card was posted on Monday.", None, None, None),
            (Sender.CUSTOMER, "thanks", "thanks", 0.96, 0.44),
        ],
    ),
    "e2e-sup-looping": (
        2,
        [
            (Sender.CUSTOMER, "my card hasnt come through the post", "nlu_fallback", 0.41, 0.0),
            (Sender.BOT, "Sorry, I didn't quite get that. Could you rephrase?", None, None, None),
            (Sender.CUSTOMER, "the card never came in the post", "nlu_fallback", 0.38, 0.0),
            (Sender.BOT, "Sorry, I didn't quite get that. Could you rephrase?", None, None, None),
            (Sender.CUSTOMER, "this is useless, terrible service", "nlu_fallback", 0.3, -0.72),
        ],
    ),
    "e2e-sup-unsure": (
        None,
        [
            (Sender.CUSTOMER, "can I put a hold on my card for now", "freeze_card", 0.55, 0.0),
            (Sender.BOT, "I can freeze your card.", None, None, None),
        ],
    ),
}


@dataclass
class Dashboard:
    url: str
    token: str


def add_conversations(store: CRMStore) -> None:
    """Conversations of the `rest` channel from the last hours (the seed's are `socketio`)."""
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    for number, (conversation, (customer, turns)) in enumerate(CONVERSATIONS.items()):
        for index, (sender, text, intent, confidence, sentiment) in enumerate(turns):
            at = start + timedelta(minutes=20 * number, seconds=15 * index)
            record_turn(
                store,
                conversation,
                index,
                at,
                sender,
                text,
                channel=CHANNEL,
                intent=intent,
                confidence=confidence,
                customer_id=customer,
                sentiment=sentiment,
            )


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    var_dir = tmp_path_factory.mktemp("e2e-supervisor")
    env = fresh_env(var_dir)
    settings = load_settings(env)
    prepare_store(settings, seed=False)[0].dispose()
    engine = create_crm_engine(settings.database_url)
    seed_demo(engine)
    store = CRMStore(engine)
    add_conversations(store)
    for job in JOBS_TO_RUN:
        if job in JOBS:
            assert run_job(store, settings, job, JobTrigger.CLI)["status"] == "succeeded", job
    store.staff.create(SUPERVISOR, SUPERVISOR_PASSWORD, StaffRole.SUPERVISOR)
    store.staff.create(AGENT, AGENT_PASSWORD, StaffRole.AGENT)
    store.dispose()
    with running_console(settings, env) as url:
        login = http(
            "POST",
            f"{url}/api/v1/auth/login",
            json.dumps({"username": SUPERVISOR, "password": SUPERVISOR_PASSWORD}).encode(),
        )
        assert login.status == 200, login.body
        yield Dashboard(url, login.body["token"])


def get(board: Dashboard, path: str, **query: Any) -> Any:
    params = {name: value for name, value in query.items() if value not in (None, "")}
    reply = http("GET", f"{board.url}{path}?{urlencode(params)}", token=board.token)
    assert reply.status == 200, reply.body
    return reply.body


def get_csv(board: Dashboard, path: str, query: str) -> str:
    request = urllib.request.Request(f"{board.url}{path}?{query}&format=csv")
    request.add_header("Authorization", f"Bearer {board.token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode("utf-8")


def half_up(value: float, places: str) -> Decimal:
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def shown(value: float | None, unit: str) -> str:
    """A value as the dashboard writes it (supervisor/metrics.js formatValue)."""
    if value is None:
        return "n/a"
    if unit == "rate":
        return f"{half_up(value * 100, '0.1')}%"
    if unit == "seconds":
        if value < 90:
            return f"{half_up(value, '1')} s"
        if value < 5400:
            return f"{half_up(value / 60, '0.1')} min"
        return f"{half_up(value / 3600, '0.1')} h"
    if unit == "score":
        return str(half_up(value, "0.01"))
    return f"{int(half_up(value, '1')):,}"


def page_filters(driver: WebDriver) -> dict[str, str]:
    return driver.execute_script(
        "return Object.fromEntries(new URLSearchParams(document.getElementById('tiles')"
        ".dataset.query || ''))"
    )


def tiles(driver: WebDriver) -> dict[str, dict[str, str]]:
    """Each tile's metric: its raw value and its text, and those of the figure under it."""
    return driver.execute_script(
        """
        const found = {};
        for (const node of document.querySelectorAll('#tiles [data-metric]')) {
          const text = node.classList.contains('tile')
            ? node.querySelector('.tile-value').textContent : node.textContent;
          found[node.dataset.metric] = {value: node.dataset.value, text};
        }
        return found;
        """
    )


def assert_tiles_match(driver: WebDriver, board: Dashboard, units: dict[str, str]) -> dict:
    query = page_filters(driver)
    summary = get(board, "/api/v1/analytics/summary", **query)
    shown_tiles = tiles(driver)
    assert len(shown_tiles) >= 12, shown_tiles
    for metric, tile in shown_tiles.items():
        value = summary[metric]
        assert (None if tile["value"] == "" else float(tile["value"])) == value, (metric, tile)
        expected = shown(value, units[metric])
        assert tile["text"] == expected or tile["text"].startswith(f"{expected} "), (metric, tile)
    return summary


def overflowing(driver: WebDriver) -> list[str]:
    """Visible elements of the page that stick out of the viewport sideways."""
    return driver.execute_script(
        """
        const bad = [];
        if (document.documentElement.scrollWidth > innerWidth) bad.push('document');
        const view = document.getElementById('dashboard-view');
        if (view.scrollWidth > view.clientWidth) bad.push('dashboard-view');
        for (const node of view.querySelectorAll('*')) {
          if (node.closest('.tip, [hidden]') || node.getClientRects().length === 0) continue;
          const box = node.getBoundingClientRect();
          if (box.width && (box.right > innerWidth + 0.5 || box.left < -0.5)) {
            bad.push(`${node.tagName}#${node.id}.${node.className}`);
          }
        }
        return bad.slice(0, 10);
        """
    )


def wait_for_file(directory: Path, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"nothing was downloaded into {directory}")


def tiles_loaded(driver: WebDriver) -> bool:
    return driver.find_element(By.ID, "tiles").get_attribute("aria-busy") == "false"


def texts(driver: WebDriver, selector: str) -> list[str]:
    return [node.text for node in driver.find_elements(By.CSS_SELECTOR, selector)]


def gone(selector: str) -> Any:
    return lambda driver: not driver.find_elements(By.CSS_SELECTOR, selector)


def an_agent_is_turned_away(driver: WebDriver, board: Dashboard) -> None:
    sign_in(driver, f"{board.url}/supervisor", AGENT, AGENT_PASSWORD)
    denied = wait_for(driver, lambda d: d.find_element(By.ID, "denied-view"), PAGE_S)
    wait_for(driver, lambda _: denied.is_displayed(), PAGE_S, "no 'supervisors only'")
    assert "supervisors" in denied.text.lower()
    assert not driver.find_element(By.ID, "dashboard-view").is_displayed()
    driver.find_element(By.ID, "logout").click()


def tiles_follow_the_filters(driver: WebDriver, board: Dashboard, metrics: list[dict]) -> None:
    """The tiles are the API's summary for the page's filters, before and after a change."""
    units = {metric["name"]: metric["unit"] for metric in metrics}
    definitions = {metric["name"]: metric["definition"] for metric in metrics}
    fill_sign_in(driver, SUPERVISOR, SUPERVISOR_PASSWORD, "no login form after logging out")
    wait_for(driver, lambda d: tiles_loaded(d) and tiles(d), PAGE_S, "no tiles")
    everything = assert_tiles_match(driver, board, units)
    assert everything["conversations"] > len(CONVERSATIONS)
    rows = "#breakdown-table tbody tr"
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, rows), PAGE_S, "no breakdown")
    assert overflowing(driver) == []
    tile = driver.find_element(By.CSS_SELECTOR, '.tile[data-metric="handoff_rate"]')
    ActionChains(driver).move_to_element(tile).perform()
    tip = driver.find_element(By.ID, "tip-handoff_rate")
    wait_for(driver, lambda _: tip.is_displayed(), 5, "no definition on hover")
    assert tip.text == definitions["handoff_rate"]
    save_screenshot(driver, "supervisor-dashboard.png")

    def pick_channel(d: WebDriver) -> bool:
        Select(d.find_element(By.ID, "filter-channel")).select_by_value(CHANNEL)
        return True

    wait_for(driver, pick_channel, PAGE_S, f"no channel {CHANNEL} to pick")
    wait_for(
        driver,
        lambda d: tiles_loaded(d) and page_filters(d).get("channel") == CHANNEL,
        PAGE_S,
        "the channel filter did not reload the tiles",
    )
    assert f"channel={CHANNEL}" in driver.current_url
    rest = assert_tiles_match(driver, board, units)
    assert rest["conversations"] == len(CONVERSATIONS)
    assert rest["conversations"] != everything["conversations"]


def a_tile_drills_down_to_a_transcript(driver: WebDriver, board: Dashboard) -> None:
    """By keyboard: the first tile shows its definition on focus, and Enter opens its list."""
    driver.execute_script("document.getElementById('filter-reset').focus()")
    driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.get_attribute("data-metric") == "conversations"
    assert driver.find_element(By.ID, "tip-conversations").is_displayed()
    focused.send_keys(Keys.ENTER)
    dialog = driver.find_element(By.ID, "drilldown")
    wait_for(driver, lambda _: dialog.is_displayed(), PAGE_S, "no drill-down")
    listed = wait_for(
        driver,
        lambda d: [
            row.get_attribute("data-conversation-id")
            for row in d.find_elements(By.CSS_SELECTOR, "#drilldown-table tbody tr")
        ],
        PAGE_S,
        "the drill-down lists nothing",
    )
    behind = get(
        board, "/api/v1/analytics/conversations", **page_filters(driver), metric="conversations"
    )
    assert listed == [row["conversation_id"] for row in behind["conversations"]]
    assert sorted(listed) == sorted(CONVERSATIONS)
    row = '#drilldown-table tr[data-conversation-id="e2e-sup-looping"]'
    driver.find_element(By.CSS_SELECTOR, row).click()
    conversation = get(board, "/api/v1/conversations/e2e-sup-looping")
    said = [message["text"] for message in conversation["messages"]]
    wait_for(
        driver,
        lambda d: texts(d, "#drilldown-transcript .message-text") == said,
        PAGE_S,
        "the transcript is not the conversation's",
    )
    assert overflowing(driver) == []
    save_screenshot(driver, "supervisor-drilldown.png")


def downloads_are_the_apis_csv(driver: WebDriver, board: Dashboard, downloads: Path) -> None:
    """The drill-down's CSV, then the breakdown table's: each is the API's file."""
    driver.find_element(By.ID, "drilldown-csv").click()
    downloaded = wait_for_file(downloads, DOWNLOAD_S)
    query = urlencode({**page_filters(driver), "metric": "conversations"})
    expected = get_csv(board, "/api/v1/analytics/conversations", query)
    assert downloaded.read_bytes().decode("utf-8") == expected
    downloaded.unlink()
    driver.find_element(By.ID, "drilldown-close").click()
    dialog = driver.find_element(By.ID, "drilldown")
    wait_for(driver, lambda _: not dialog.is_displayed(), 5, "the dialog stayed open")

    driver.find_element(By.ID, "breakdown-csv").click()
    downloaded = wait_for_file(downloads, DOWNLOAD_S)
    chosen = {
        name: Select(driver.find_element(By.ID, f"breakdown-{name}")).first_selected_option
        for name in ("metric", "by")
    }
    query = urlencode(
        {**page_filters(driver), **{k: v.get_attribute("value") for k, v in chosen.items()}}
    )
    expected = get_csv(board, "/api/v1/analytics/breakdown", query)
    assert downloaded.read_bytes().decode("utf-8") == expected


def topics_are_the_apis(driver: WebDriver, board: Dashboard) -> None:
    """The topics tab shows the API's topics for the filters, the rising ones marked."""
    driver.find_element(By.ID, "tab-topics").click()
    topics = get(board, "/api/v1/analytics/topics", **page_filters(driver))["topics"]
    wait_for(
        driver,
        lambda d: texts(d, "#topic-list .topic h2") == [topic["label"] for topic in topics],
        PAGE_S,
        "the topics are not the API's",
    )
    rising = [topic["label"] for topic in topics if topic["rising"]]
    assert texts(driver, "#topic-list .rising h2") == rising
    empty = driver.find_element(By.ID, "topics-empty")
    assert empty.is_displayed() == (not topics)
    assert not driver.find_element(By.ID, "filter-intent").is_displayed()
    assert overflowing(driver) == []


def a_flag_is_reviewed(driver: WebDriver, board: Dashboard) -> None:
    """The queue is the API's, most severe first; the verdict is saved with its note."""
    driver.find_element(By.ID, "tab-quality").click()
    open_flags = get(board, "/api/v1/quality/flags", status="open")["flags"]
    assert open_flags, "the quality rules flagged nothing"
    shown_flags = wait_for(
        driver,
        lambda d: [
            int(node.get_attribute("data-flag-id"))
            for node in d.find_elements(By.CSS_SELECTOR, "#flag-list .flag")
        ],
        PAGE_S,
        "the queue is empty",
    )
    assert shown_flags == [flag["id"] for flag in open_flags]
    first = f'.flag[data-flag-id="{open_flags[0]["id"]}"]'
    driver.find_element(By.CSS_SELECTOR, first).click()
    wait_for(
        driver,
        lambda d: texts(d, "#flag-transcript .message-text"),
        PAGE_S,
        "the flagged conversation's transcript is not shown",
    )
    note = "Agent took too long; coach."
    driver.find_element(By.ID, "review-note").send_keys(note)
    Select(driver.find_element(By.ID, "review-outcome")).select_by_value("agent_coaching")
    assert overflowing(driver) == []
    save_screenshot(driver, "supervisor-review-queue.png")
    driver.find_element(By.CSS_SELECTOR, "#review-form button[type=submit]").click()
    wait_for(
        driver,
        lambda d: "Reviewed" in d.find_element(By.ID, "alert-text").text,
        PAGE_S,
        "no confirmation of the review",
    )
    wait_for(driver, gone(first), PAGE_S, "the reviewed flag is still in the open queue")
    reviewed = get(board, "/api/v1/quality/flags", status="reviewed")["flags"]
    verdict = next(flag for flag in reviewed if flag["id"] == open_flags[0]["id"])
    assert (verdict["outcome"], verdict["note"]) == ("agent_coaching", note)


def an_inbox_group_is_labelled(driver: WebDriver, board: Dashboard) -> None:
    """Every open message is shown; a retrain with nothing labelled says so; a group labelled
    with a known intent leaves the inbox, and so does a dismissed one."""
    driver.find_element(By.ID, "tab-inbox").click()
    inbox = get(board, "/api/v1/nlu/inbox", status="open")
    assert inbox["groups"], "the inbox collected nothing"
    card = wait_for(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, "#group-list .inbox-group"),
        PAGE_S,
        "no inbox groups",
    )
    shown_items = driver.find_elements(By.CSS_SELECTOR, "#group-list .inbox-item")
    assert len(shown_items) == sum(len(group["items"]) for group in inbox["groups"])
    status = driver.find_element(By.ID, "retrain-status")
    wait_for(driver, lambda _: status.text == "No retrain has run yet.", PAGE_S)
    # Nothing labelled yet: the retrain run trains nothing, quickly, and says so.
    driver.find_element(By.ID, "retrain").click()
    wait_for(driver, lambda _: "succeeded by sam" in status.text, RETRAIN_S, "no retrain run")
    figures = driver.find_element(By.ID, "retrain-figures").text
    assert "0 of 0 labels used" in figures and "nothing trained" in figures, figures
    alert = driver.find_element(By.ID, "alert-text").text
    assert alert == "The retrain finished: no model was trained.", alert
    assert overflowing(driver) == []
    save_screenshot(driver, "supervisor-inbox.png")
    group = inbox["groups"][0]
    intent = "card_arrival" if "card_arrival" in inbox["intents"] else inbox["intents"][0]
    field = card.find_element(By.CSS_SELECTOR, "input[name=intent]")
    field.clear()
    field.send_keys(intent)
    assert not card.find_element(By.CSS_SELECTOR, "textarea[name=response]").is_displayed()
    card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    selector = f'.inbox-group[data-group-key="{group["key"]}"]'
    wait_for(driver, gone(selector), PAGE_S, "the labelled group is still in the inbox")
    labelled = get(board, "/api/v1/nlu/inbox", status="labelled")["groups"]
    intents = {item["id"]: item["intent"] for found in labelled for item in found["items"]}
    assert all(intents[item["id"]] == intent for item in group["items"])

    other = inbox["groups"][1]
    selector = f'.inbox-group[data-group-key="{other["key"]}"]'
    driver.find_element(By.CSS_SELECTOR, f"{selector} .label-actions .secondary").click()
    wait_for(driver, gone(selector), PAGE_S, "the dismissed group is still in the inbox")
    dismissed = get(board, "/api/v1/nlu/inbox", status="dismissed")["groups"]
    ids = {item["id"] for found in dismissed for item in found["items"]}
    assert ids == {item["id"] for item in other["items"]}


def test_a_supervisor_reads_filters_drills_down_exports_and_reviews(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    metrics = get(dashboard, "/api/v1/analytics/metrics")["metrics"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with tempfile.TemporaryDirectory(prefix="e2e-chromium-") as profile:
        driver = start_chromium(Path(profile))
        try:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", WIDE)
            driver.execute_cdp_cmd(
                "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
            )
            an_agent_is_turned_away(driver, dashboard)
            tiles_follow_the_filters(driver, dashboard, metrics)
            a_tile_drills_down_to_a_transcript(driver, dashboard)
            downloads_are_the_apis_csv(driver, dashboard, downloads)
            topics_are_the_apis(driver, dashboard)
            a_flag_is_reviewed(driver, dashboard)
            an_inbox_group_is_labelled(driver, dashboard)
            # The same page at 1024x768: nothing sticks out on any tab.
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", NARROW)
            for tab in ("overview", "topics", "quality", "inbox"):
                driver.find_element(By.ID, f"tab-{tab}").click()
                panel = driver.find_element(By.ID, f"{tab}-panel")
                wait_for(driver, lambda _, panel=panel: panel.is_displayed(), 5, tab)
                assert overflowing(driver) == [], tab
        finally:
            driver.quit()


def test_the_page_loads_only_its_own_files_and_the_vendored_chart_js(dashboard: Dashboard) -> None:
    with urllib.request.urlopen(f"{dashboard.url}/supervisor", timeout=30) as page:
        policy = page.headers["Content-Security-Policy"]
        html = page.read().decode()
    assert "default-src 'self'" in policy and "script-src" not in policy
    assert '<script src="/static/vendor/chart.umd.min.js"></script>' in html
    chart_js = f"{dashboard.url}/static/vendor/chart.umd.min.js"
    with urllib.request.urlopen(chart_js, timeout=30) as js:
        assert "javascript" in js.headers["Content-Type"]
        assert js.read(200).decode().lstrip().startswith("/*!\n * Chart.js v4.")
