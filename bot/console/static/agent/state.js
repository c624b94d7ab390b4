/*
 * What the agent console has on screen, shared by its panels: the two queues, the selected
 * handoff and its transcript, unread counts, and every handoff seen so far by id.
 */

export const state = {
  queues: { open: [], claimed: [] },
  selected: null,
  messages: [],
  unread: new Map(),
  known: new Map(),
};
