// Webhooks: endpoints (add with an event picker, signing secret shown once, test, roll, pause, delete)
// and each endpoint's deliveries (status, attempts, last answer, redeliver).

import { gql } from "../api.js";
import { confirmDialog, formDialog, saveKeyDialog, submitMutation } from "../dialogs.js";
import { exactTime, field, h, timeCell, uid } from "../dom.js";
import { optionsMenu } from "../menu.js";
import {
  CREATE_WEBHOOK_ENDPOINT, DELETE_WEBHOOK_ENDPOINT, REDELIVER_WEBHOOK, ROLL_WEBHOOK_ENDPOINT_SECRET,
  SEND_TEST_WEBHOOK, UPDATE_WEBHOOK_ENDPOINT, WEBHOOK_ENDPOINT_DELIVERIES, WEBHOOK_ENDPOINTS,
} from "../queries.js";
import { pagedList, section, showSectionError, table } from "./common.js";

export const EVENTS = [
  ["MANAGEMENT_TOKEN_CREATED", "Management token created", "A management token was created."],
  ["MANAGEMENT_TOKEN_UPDATED", "Management token updated", "Its name, permissions, IPs or expiry changed."],
  ["MANAGEMENT_TOKEN_ROTATED", "Management token rotated", "A token got a replacement."],
  ["MANAGEMENT_TOKEN_REVOKED", "Management token revoked", "By a person, the stale sweep or a leak report."],
  ["CREDENTIAL_EXPIRING", "Credential expiring", "A management token or API key expires soon."],
  ["STALE_TOKEN_REPORT_READY", "Stale token report ready", "The daily sweep found stale tokens."],
  ["API_KEY_CREATED", "API key created", "An API key was created."],
  ["API_KEY_DELETED", "API key deleted", "An API key was deleted (also with its project, or leaked)."],
  ["MEMBER_CHANGED", "Member changed", "A person joined, changed role or left."],
  ["CREDENTIAL_LEAKED", "Credential leaked", "A credential was reported leaked and revoked or flagged."],
];
const EVENT_LABELS = Object.fromEntries([["PING", "Test ping"], ...EVENTS.map(([value, label]) => [value, label])]);
const STATUS = { PENDING: ["Pending", "stale"], DELIVERED: ["Delivered", "active"], FAILED: ["Failed", "revoked"] };
const endpointHref = (id) => `#/webhooks/${encodeURIComponent(id)}`;

export function renderWebhooks(main, ctx) {
  main.append(h("header", { class: "page-header" }, h("h1", {}, "Webhooks"),
    h("p", { class: "muted" }, "Keyward POSTs signed events to these URLs (header Keyward-Signature).")));
  const add = h("button", { type: "button", class: "button primary" }, "+ Add endpoint");
  const { el, body, errors } = section("Endpoints", { id: "webhook-endpoints", actions: [add] });
  main.append(el);

  async function reload() {
    await pagedList(body, errors, {
      load: async (page) => (await gql(WEBHOOK_ENDPOINTS, page)).webhookEndpoints,
      render: (endpoints) => table("Webhook endpoints", ["URL", "Events", "Status", "Created", ""],
        endpoints.map((endpoint) => endpointRow(endpoint, reload)),
        { empty: "No endpoints yet. Add one to have Keyward tell your systems what changes." }),
    });
  }
  add.addEventListener("click", () => endpointDialog(reload));
  reload();
}

function statusBadge(endpoint) {
  if (endpoint.enabled) return h("span", { class: "badge active" }, "Enabled");
  return h("span", { class: "badge revoked", title: endpoint.disabledAt ? `Disabled by Keyward ${exactTime(endpoint.disabledAt)}: every attempt failed` : "" },
    endpoint.disabledAt ? "Disabled after failures" : "Paused");
}

function endpointRow(endpoint, reload) {
  return h("tr", { dataset: { endpointId: endpoint.id } },
    h("th", { scope: "row" }, h("a", { href: endpointHref(endpoint.id) }, endpoint.url),
      endpoint.description ? h("p", { class: "hint" }, endpoint.description) : null,
      endpoint.secretLeakedAt ? h("span", { class: "badge stale", title: "Roll the signing secret" }, "Secret leaked") : null),
    h("td", { class: "permissions" }, endpoint.events.map((e) => h("span", { class: "chip" }, EVENT_LABELS[e] || e))),
    h("td", { class: "status" }, statusBadge(endpoint)),
    h("td", {}, timeCell(endpoint.createdAt, { relativeText: false })),
    h("td", { class: "row-actions" }, endpointMenu(endpoint, reload)));
}

function endpointMenu(endpoint, reload) {
  return optionsMenu(`Options for ${endpoint.url}`, [
    { label: "View deliveries", onSelect: () => { location.hash = endpointHref(endpoint.id); } },
    { label: "Send test", onSelect: () => sendTest(endpoint) },
    { label: endpoint.enabled ? "Pause" : "Enable", onSelect: () => setEnabled(endpoint, !endpoint.enabled, reload) },
    { label: "Roll signing secret", onSelect: () => rollDialog(endpoint) },
    { label: "Delete endpoint", danger: true, onSelect: () => deleteDialog(endpoint, reload) },
  ]);
}

function eventPicker() {
  const boxes = EVENTS.map(([value, label, description]) => {
    const id = uid("event");
    return h("div", { class: "checkbox" },
      h("input", { type: "checkbox", id, name: "events", value, "aria-describedby": `${id}-desc` }),
      h("label", { for: id }, label),
      h("p", { class: "hint", id: `${id}-desc` }, description));
  });
  return h("fieldset", { class: "field", dataset: { field: "events" } },
    h("legend", {}, "Events"), h("p", { class: "hint" }, "Choose what this endpoint receives."),
    boxes, h("p", { class: "field-error", role: "alert", hidden: true }));
}

function endpointDialog(reload) {
  const url = h("input", { name: "url", type: "url", maxlength: 2048, autocomplete: "off" });
  const description = h("input", { name: "description", type: "text", maxlength: 2000, autocomplete: "off" });
  formDialog({
    title: "Add webhook endpoint",
    submitLabel: "Add endpoint",
    fields: [field("Endpoint URL", url, "Where Keyward POSTs the events: a URL that starts with https:"),
      field("Description (optional)", description), eventPicker()],
    onSubmit: async (form) => {
      const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
      const input = { url: url.value, events, description: description.value || null };
      const payload = await submitMutation(form, async () =>
        (await gql(CREATE_WEBHOOK_ENDPOINT, { input })).createWebhookEndpoint);
      if (!payload) return false;
      showSigningSecret(payload);
      reload();
      return true;
    },
  });
}

/** The one showing of a signing secret; the payload keeps no reference to it afterwards. */
function showSigningSecret(payload) {
  const secret = payload.signingSecret;
  payload.signingSecret = null;
  saveKeyDialog({ name: payload.webhookEndpoint.url, secret, kind: "webhook signing secret" });
}

function rollDialog(endpoint) {
  const hours = h("input", { name: "previousSecretValidHours", type: "number", min: 0, max: 168, value: "0" });
  formDialog({
    title: "Roll signing secret",
    submitLabel: "Roll secret",
    fields: [h("p", {}, "A new secret signs deliveries to ", h("strong", {}, endpoint.url), " from now on."),
      field("Hours the old secret keeps signing too", hours, "0 stops it at once (after a leak); up to 168.")],
    onSubmit: async (form) => {
      const input = { id: endpoint.id, previousSecretValidHours: Number.parseInt(hours.value, 10) || 0 };
      const payload = await submitMutation(form, async () =>
        (await gql(ROLL_WEBHOOK_ENDPOINT_SECRET, { input })).rollWebhookEndpointSecret);
      if (!payload) return false;
      showSigningSecret(payload);
      return true;
    },
  });
}

async function setEnabled(endpoint, enabled, reload) {
  try {
    const payload = (await gql(UPDATE_WEBHOOK_ENDPOINT, { input: { id: endpoint.id, enabled } })).updateWebhookEndpoint;
    if (payload.userErrors.length) throw new Error(payload.userErrors[0].message);
  } catch (error) {
    alertError(error);
  }
  reload();
}

function deleteDialog(endpoint, reload) {
  confirmDialog({
    title: "Delete webhook endpoint",
    confirmLabel: "Delete endpoint",
    message: [h("p", {}, "Stop sending events to ", h("strong", {}, endpoint.url), " and forget its deliveries?"),
      h("p", { class: "warning" }, "This cannot be undone.")],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(DELETE_WEBHOOK_ENDPOINT, { input: { id: endpoint.id } })).deleteWebhookEndpoint);
      if (!payload) return false;
      reload();
      return true;
    },
  });
}

async function sendTest(endpoint, after) {
  try {
    const payload = (await gql(SEND_TEST_WEBHOOK, { input: { id: endpoint.id } })).sendTestWebhook;
    if (payload.userErrors.length) throw new Error(payload.userErrors[0].message);
  } catch (error) {
    alertError(error);
    return;
  }
  if (after) after();
  else location.hash = endpointHref(endpoint.id);
}

function alertError(error) {
  const region = document.querySelector("#content .section-error");
  if (region) {
    region.textContent = error.message;
    region.hidden = false;
  }
}

// ---- one endpoint's deliveries ----------------------------------------------------------------

export function renderWebhookDeliveries(main, ctx, endpointId) {
  const back = h("p", {}, h("a", { href: "#/webhooks" }, "← All webhook endpoints"));
  const title = h("h1", {}, "Webhook deliveries");
  const subtitle = h("p", { class: "muted" });
  main.append(back, h("header", { class: "page-header" }, title, subtitle));
  const test = h("button", { type: "button", class: "button secondary" }, "Send test");
  const refresh = h("button", { type: "button", class: "button secondary" }, "Refresh");
  const { el, body, errors } = section("Deliveries", { id: "webhook-deliveries", actions: [test, refresh],
    description: "Newest first. Failed attempts are retried with back-off for 24 hours." });
  main.append(el);
  let timer = null;

  async function reload() {
    clearTimeout(timer);
    if (!main.contains(el)) return;
    let pending = false;
    await pagedList(body, errors, {
      load: async (page) => {
        const endpoint = (await gql(WEBHOOK_ENDPOINT_DELIVERIES, { id: endpointId, ...page })).node;
        if (!endpoint) throw new Error("This endpoint does not exist (any more).");
        subtitle.replaceChildren(endpoint.url, " ", statusBadge(endpoint));
        return endpoint.deliveries;
      },
      render: (deliveries) => {
        pending = deliveries.some((d) => d.status === "PENDING");
        return table("Webhook deliveries",
          ["Event", "Status", "Attempts", "Last answer", "Created", "Delivered / next attempt", ""],
          deliveries.map((delivery) => deliveryRow(delivery, reload)),
          { empty: "No deliveries yet: send a test, or wait for an event." });
      },
    });
    // While something is on its way, look again shortly (the worker sends within seconds).
    if (pending) timer = setTimeout(reload, 2000);
  }
  test.addEventListener("click", () => sendTest({ id: endpointId }, reload));
  refresh.addEventListener("click", reload);
  reload();
}

function deliveryRow(delivery, reload) {
  const [label, tone] = STATUS[delivery.status] || [delivery.status, ""];
  const error = h("span", { class: "field-error inline", role: "alert", hidden: true });
  const redeliver = h("button", { type: "button", class: "button secondary small",
    "aria-label": `Redeliver ${EVENT_LABELS[delivery.event] || delivery.event} ${delivery.eventId}` }, "Redeliver");
  redeliver.addEventListener("click", async () => {
    redeliver.disabled = true;
    error.hidden = true;
    try {
      const payload = (await gql(REDELIVER_WEBHOOK, { input: { id: delivery.id } })).redeliverWebhook;
      if (payload.userErrors.length) throw new Error(payload.userErrors[0].message);
      reload();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      redeliver.disabled = false;
    }
  });
  const answer = delivery.lastError || (delivery.lastStatusCode ? `HTTP ${delivery.lastStatusCode}` : "—");
  return h("tr", { dataset: { deliveryId: delivery.id, status: delivery.status } },
    h("th", { scope: "row" }, EVENT_LABELS[delivery.event] || delivery.event,
      h("p", { class: "hint" }, h("code", {}, delivery.eventId))),
    h("td", { class: "status" }, h("span", { class: `badge ${tone}` }, label)),
    h("td", { class: "attempts" }, String(delivery.attempts)),
    h("td", { class: "answer" }, answer),
    h("td", {}, timeCell(delivery.createdAt)),
    h("td", {}, delivery.deliveredAt ? timeCell(delivery.deliveredAt)
      : delivery.nextAttemptAt ? ["next ", timeCell(delivery.nextAttemptAt)] : "—"),
    h("td", { class: "row-actions" }, redeliver, error));
}
