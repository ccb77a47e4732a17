// Audit log: newest first, one page at a time (cursors kept so Previous goes back).

import { gql } from "../api.js";
import { h, timeCell } from "../dom.js";
import { AUDIT_EVENTS } from "../queries.js";
import { section, showSectionError, table } from "./common.js";

const PAGE_SIZE = 20;

export function renderAudit(main) {
  main.append(h("header", { class: "page-header" }, h("h1", {}, "Audit log")));
  const { el, body, errors } = section("Events", { id: "audit-log",
    description: "Every create, update, delete, revoke, rotate, sign-up and log-in, newest first." });
  main.append(el);
  const cursors = [null];
  let pageIndex = 0;

  async function show() {
    showSectionError(errors, null);
    let connection;
    try {
      connection = (await gql(AUDIT_EVENTS, { first: PAGE_SIZE, after: cursors[pageIndex] })).auditEvents;
    } catch (error) {
      showSectionError(errors, error);
      return;
    }
    cursors[pageIndex + 1] = connection.pageInfo.endCursor;
    const start = pageIndex * PAGE_SIZE;
    const events = connection.edges.map((edge) => edge.node);
    const previous = h("button", { type: "button", class: "button secondary", disabled: pageIndex === 0,
      onclick: () => { pageIndex -= 1; show(); } }, "Previous page");
    const next = h("button", { type: "button", class: "button secondary",
      disabled: !connection.pageInfo.hasNextPage, onclick: () => { pageIndex += 1; show(); } }, "Next page");
    body.replaceChildren(
      table("Audit events", ["When", "Actor", "Action", "Target", "IP address"],
        events.map((event) => h("tr", { dataset: { eventId: event.id } },
          h("td", {}, timeCell(event.occurredAt)),
          h("td", {}, event.actor.label),
          h("td", {}, h("code", {}, event.action)),
          h("td", {}, event.targetType, event.targetId ? h("span", { class: "muted" }, ` ${event.targetId}`) : null),
          h("td", {}, event.ipAddress || "—"))),
        { empty: "No events yet." }),
      h("nav", { class: "pager", "aria-label": "Audit log pages" },
        previous,
        h("span", { class: "page-status" }, events.length
          ? `${start + 1}–${start + events.length} of ${connection.totalCount}` : `0 of ${connection.totalCount}`),
        next));
  }
  show();
}
