/* Signing in and out of the agent console (lib/login.js), with its live feed and queues. */

import { staffLogin } from "../lib/login.js";
import { connectLive, disconnectLive } from "./live.js";
import { refreshQueues } from "./queue.js";
import { state } from "./state.js";

const login = staffLogin({
  view: "console-view",
  hiddenWhenOut: ["live-status"],
  onEnter: () => {
    connectLive();
    refreshQueues();
  },
  onLeave: () => {
    disconnectLive();
    state.selected = null;
  },
});

export const { showLogin, logIn, logOut, logOutClicked } = login;
export const showConsole = login.showPage;
