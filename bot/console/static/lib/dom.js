/*
 * DOM helpers for the console's pages. Text is only ever set with textContent, never parsed
 * as HTML, so whatever a customer, the bot or an agent writes stays text.
 */

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  return node;
}
