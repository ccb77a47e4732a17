// Stale tokens: the newest sweep report with one-click revoke (and the API keys it lists as expiring soon),
// and the workspace's stale settings.

import { gql } from "../api.js";
import { formError, submitMutation } from "../dialogs.js";
import { field, h, timeCell } from "../dom.js";
import { REVOKE_MANAGEMENT_TOKEN, STALE_REPORT, UPDATE_WORKSPACE_SETTINGS, WEBHOOK_ENDPOINTS } from "../queries.js";
import { section, showSectionError, table } from "./common.js";

const REASONS = { NEVER_USED: "Never used", INACTIVE: "Inactive", EXPIRING: "Expires within 7 days" };

export function renderStaleSection(container, ctx, { onChanged } = {}) {
  const { el, body, errors } = section("Stale tokens", {
    id: "stale-tokens",
    description: "Revoke unused tokens: the daily sweep lists tokens that were never used or not used recently, " +
      "and the tokens and API keys that expire within 7 days.",
  });
  container.append(el);
  const report = h("div", { class: "stale-report" });
  body.append(report, settingsForm(ctx));

  async function reload() {
    showSectionError(errors, null);
    let connection;
    try {
      connection = (await gql(STALE_REPORT)).staleTokenReports;
    } catch (error) {
      showSectionError(errors, error);
      return;
    }
    const newest = connection.edges.length ? connection.edges[0].node : null;
    if (!newest) {
      report.replaceChildren(h("p", { class: "empty" }, "No stale-token report yet: the sweep has not run."));
      return;
    }
    report.replaceChildren(
      h("p", { class: "report-meta" }, "Newest report, generated ", timeCell(newest.generatedAt),
        ` (tokens unused for ${newest.staleAfterDays} days or more).`),
      deliveriesNote(),
      table("Stale tokens", ["Name", "Key prefix", "Reason", "Last used", "Idle days", "Action"],
        newest.entries.map((entry) => entryRow(entry)),
        { empty: "No stale tokens in the newest report." }),
      table("API keys expiring soon", ["Name", "Key prefix", "Project", "Expires", "Last used"],
        newest.expiringApiKeys.map((entry) => keyRow(entry)),
        { empty: "No API key expires within 7 days of the newest report." }));
  }

  function keyRow(entry) {
    const { apiKey } = entry;
    return h("tr", { dataset: { apiKeyId: apiKey.id } },
      h("th", { scope: "row" }, apiKey.name),
      h("td", {}, h("code", {}, apiKey.keyPrefix)),
      h("td", {}, apiKey.project ? apiKey.project.name : ""),
      h("td", {}, timeCell(entry.expiresAt)),
      h("td", {}, timeCell(entry.lastUsedAt)));
  }

  function entryRow(entry) {
    const { token } = entry;
    const error = h("span", { class: "field-error inline", role: "alert", hidden: true });
    let action;
    if (token.status === "REVOKED") {
      action = h("span", { class: "badge revoked" }, entry.autoRevoked ? "Revoked automatically" : "Revoked");
    } else {
      action = h("button", { type: "button", class: "button danger small",
        "aria-label": `Revoke ${token.name}` }, "Revoke");
      action.addEventListener("click", async () => {
        action.disabled = true;
        error.hidden = true;
        try {
          const payload = (await gql(REVOKE_MANAGEMENT_TOKEN, { input: { id: token.id } })).revokeManagementToken;
          if (payload.userErrors.length) throw new Error(payload.userErrors[0].message);
          action.replaceWith(h("span", { class: "badge revoked" }, "Revoked"));
          if (onChanged) onChanged();
        } catch (failure) {
          error.textContent = failure.message;
          error.hidden = false;
          action.disabled = false;
        }
      });
    }
    return h("tr", { dataset: { tokenId: token.id } },
      h("th", { scope: "row" }, token.name),
      h("td", {}, h("code", {}, token.keyPrefix)),
      h("td", {}, REASONS[entry.reason] || entry.reason),
      h("td", {}, timeCell(entry.lastUsedAt)),
      h("td", {}, String(entry.idleDays)),
      h("td", {}, action, error));
  }

  reload();
  return { reload };
}

function settingsForm(ctx) {
  const workspace = ctx.viewer.workspace;
  const staleAfter = h("input", { name: "staleAfterDays", type: "number", min: 1, max: 3650, required: true,
    value: String(workspace.staleAfterDays) });
  const autoRevoke = h("input", { type: "checkbox", id: "auto-revoke", name: "autoRevoke",
    checked: workspace.autoRevokeStaleAfterDays !== null });
  const revokeAfter = h("input", { name: "autoRevokeStaleAfterDays", type: "number", min: 1, max: 3650,
    value: String(workspace.autoRevokeStaleAfterDays ?? workspace.staleAfterDays),
    disabled: workspace.autoRevokeStaleAfterDays === null });
  autoRevoke.addEventListener("change", () => { revokeAfter.disabled = !autoRevoke.checked; });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "settings", novalidate: true, "aria-labelledby": "stale-settings-heading" },
    h("h3", { id: "stale-settings-heading" }, "Stale token settings"),
    formError(),
    field("Days without use before a token is stale", staleAfter),
    h("div", { class: "checkbox" }, autoRevoke,
      h("label", { for: "auto-revoke" }, "Revoke stale tokens automatically")),
    field("Days without use before automatic revocation", revokeAfter,
      "At least the stale threshold. Revocation cannot be undone."),
    h("button", { type: "submit", class: "button primary" }, "Save settings"), saved);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saved.textContent = "";
    const input = {
      staleAfterDays: Number.parseInt(staleAfter.value, 10),
      autoRevokeStaleAfterDays: autoRevoke.checked ? Number.parseInt(revokeAfter.value, 10) : null,
    };
    if (Number.isNaN(input.staleAfterDays)) input.staleAfterDays = null;
    if (autoRevoke.checked && Number.isNaN(input.autoRevokeStaleAfterDays)) input.autoRevokeStaleAfterDays = 0;
    const payload = await submitMutation(form, async () =>
      (await gql(UPDATE_WORKSPACE_SETTINGS, { input })).updateWorkspaceSettings);
    if (!payload) return;
    Object.assign(workspace, payload.workspace);
    saved.textContent = `Saved. Tokens are stale after ${workspace.staleAfterDays} days; ` +
      (workspace.autoRevokeStaleAfterDays === null ? "automatic revocation is off."
        : `revoked automatically after ${workspace.autoRevokeStaleAfterDays} days.`);
  });
  return form;
}


/** Where the sweep's report is delivered: links to the deliveries of each endpoint that receives it. */
function deliveriesNote() {
  const note = h("p", { class: "report-deliveries" });
  gql(WEBHOOK_ENDPOINTS, { first: 100 }).then((data) => {
    const receiving = data.webhookEndpoints.edges.map((edge) => edge.node)
      .filter((endpoint) => endpoint.events.includes("STALE_TOKEN_REPORT_READY"));
    if (!receiving.length) {
      note.replaceChildren(h("span", {}, "No webhook endpoint receives this report. ",
        h("a", { href: "#/webhooks" }, "Add one"), " to be told after each sweep."));
      return;
    }
    note.replaceChildren(h("span", {}, "Delivered to: ", receiving.map((endpoint, index) => [index ? ", " : null,
      h("a", { href: `#/webhooks/${encodeURIComponent(endpoint.id)}` }, endpoint.url)]), " (see its deliveries)."));
  }).catch(() => note.replaceChildren());
  return note;
}
