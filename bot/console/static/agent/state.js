/*
 * What the agent console has on screen, shared by its panels: the two queues, the selected
 * handoff and its transcript, unread counts, every handoff seen so far by id, and the
 * deliveries of the transcript's agent replies that Rasa has not confirmed, by message id.
 */

export const state = {
  queues: { open: [], claimed: [] },
  selected: null,
  messages: [],
  unread: new Map(),
  known: new Map(),
  deliveries: new Map(),
};
