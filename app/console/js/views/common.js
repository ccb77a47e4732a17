// Pieces several pages share: section headers, tables, "load more" lists and inline error slots.

import { ApiError } from "../api.js";
import { h } from "../dom.js";

export function section(title, { id, actions = [], description } = {}) {
  const headingId = `${id}-heading`;
  const errors = h("p", { class: "form-error section-error", role: "alert", hidden: true });
  const body = h("div", { class: "section-body" });
  const el = h("section", { class: "panel", id, "aria-labelledby": headingId },
    h("div", { class: "section-header" }, h("h2", { id: headingId }, title),
      h("div", { class: "section-actions" }, actions)),
    description ? h("p", { class: "section-description" }, description) : null,
    errors, body);
  return { el, body, errors };
}

export function showSectionError(errors, error) {
  const message = !error ? "" : error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
  errors.textContent = message;
  errors.hidden = !message;
}

export function table(caption, headers, rows, { empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("table", { class: "table" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows));
}

/**
 * Fetch a connection page by page into `body`: `load(after)` returns the connection and
 * `render(nodes, connection)` builds the view from every node loaded so far.
 */
export async function pagedList(body, errors, { load, render, pageSize = 50 }) {
  let nodes = [];
  let after = null;
  async function more() {
    showSectionError(errors, null);
    let connection;
    try {
      connection = await load({ first: pageSize, after });
    } catch (error) {
      showSectionError(errors, error);
      return;
    }
    nodes = nodes.concat(connection.edges.map((edge) => edge.node));
    after = connection.pageInfo.endCursor;
    body.replaceChildren(render(nodes, connection));
    if (connection.pageInfo.hasNextPage) {
      body.append(h("button", { type: "button", class: "button secondary load-more", onclick: more },
        `Load more (${nodes.length} of ${connection.totalCount})`));
    }
  }
  await more();
}
