/* The building blocks of the packet's sections: a titled section and a list of facts. */

import { el } from "../lib/dom.js";

export function section(title, ...content) {
  const block = el("section", "packet-section");
  block.append(el("h2", null, title), ...content);
  return block;
}

/** A definition list from [term, value] pairs; a value may be text or a node. */
export function definitions(pairs) {
  const list = el("dl", "facts");
  for (const [term, value] of pairs) {
    const detail = el("dd");
    detail.append(value instanceof Node ? value : document.createTextNode(String(value ?? "")));
    list.append(el("dt", null, term), detail);
  }
  return list;
}
