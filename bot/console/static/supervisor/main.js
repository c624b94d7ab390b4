/*
 * The supervisors' dashboard: analytics with their written definitions, drill-down to the
 * conversations and transcripts behind a figure, topics, the quality review queue and the NLU
 * inbox with its retrain button. Built from the console's shared modules in lib/ (API,
 * session, sign-in, alerts); an agent who signs in is told the page is for supervisors.
 */

import { clearAlert, showError } from "../lib/alert.js";
import { onSessionExpired } from "../lib/api.js";
import { $ } from "../lib/dom.js";
import { staffLogin } from "../lib/login.js";
import { currentSession, isSupervisor } from "../lib/session.js";
import { setUpDrilldown } from "./drilldown.js";
import { loadFilterOptions, onFiltersChanged, readUrl, setUpFilters, view, writeUrl } from "./filters.js";
import { refreshInbox, setUpInbox } from "./inbox.js";
import { loadMetrics } from "./metrics.js";
import { refreshOverview, setUpOverview } from "./overview.js";
import { refreshQuality, setUpQuality } from "./quality.js";
import { refreshRetrain, setUpRetrain } from "./retrain.js";
import { refreshTopics, setUpTopics } from "./topics.js";

const TABS = {
  overview: refreshOverview,
  topics: refreshTopics,
  quality: refreshQuality,
  inbox: () => Promise.all([refreshInbox(), refreshRetrain()]),
};
const FILTERED_TABS = new Set(["overview", "topics"]);
let started = false;

function showTab(name, focus = false) {
  const tab = name in TABS ? name : "overview";
  if (tab !== view.tab) {
    // A message about the last tab's work would read as one about this tab.
    clearAlert();
  }
  view.tab = tab;
  writeUrl();
  for (const button of document.querySelectorAll("[role=tab]")) {
    const selected = button.dataset.tab === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(button.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) {
      button.focus();
    }
  }
  $("filters").hidden = !FILTERED_TABS.has(tab);
  // Topics cut across intents: the API ignores the intent filter there.
  $("filter-intent").closest("label").hidden = tab === "topics";
  TABS[tab]();
}

/** Tabs as the ARIA practices have them: arrows, Home and End move between them. */
function setUpTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const button of tabs) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
    button.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(button);
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (event.key in moves) {
        event.preventDefault();
        showTab(tabs[(moves[event.key] + tabs.length) % tabs.length].dataset.tab, true);
      }
    });
  }
}

async function enter(session) {
  const allowed = isSupervisor();
  $("dashboard-view").hidden = !allowed;
  $("denied-view").hidden = allowed;
  if (!allowed) {
    $("denied-text").textContent =
      `You are signed in as ${session.username}, an ${session.role}: this dashboard is for supervisors and admins only.`;
    return;
  }
  try {
    await loadMetrics();
  } catch (error) {
    showError(error);
    return;
  }
  if (!started) {
    started = true;
    setUpOverview();
  }
  loadFilterOptions();
  showTab(view.tab);
}

readUrl();
const login = staffLogin({
  view: "dashboard-view",
  hiddenWhenOut: ["denied-view"],
  onEnter: enter,
  onLeave: () => {
    if ($("drilldown").open) {
      $("drilldown").close();
    }
  },
});
onSessionExpired(login.logOut);
$("login-form").addEventListener("submit", login.logIn);
$("logout").addEventListener("click", login.logOutClicked);
$("alert-close").addEventListener("click", clearAlert);
setUpFilters();
setUpTabs();
setUpDrilldown();
setUpTopics();
setUpQuality();
setUpInbox();
setUpRetrain();
onFiltersChanged(() => {
  if (FILTERED_TABS.has(view.tab)) {
    TABS[view.tab]();
  }
});
if (currentSession()) {
  login.showPage();
} else {
  login.showLogin();
}
