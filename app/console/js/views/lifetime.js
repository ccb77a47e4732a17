// The workspace's token lifetime policy (maxTokenLifetimeDays): the longest a new management token or
// API key may live, or no limit. The create dialogs read it when they open (expiry.js).

import { gql } from "../api.js";
import { formError, submitMutation } from "../dialogs.js";
import { field, h } from "../dom.js";
import { UPDATE_WORKSPACE_SETTINGS } from "../queries.js";
import { section } from "./common.js";

const SUGGESTED_DAYS = 90;

function policy(days) {
  return days === null ? "New tokens and API keys may be created without an expiry."
    : `New tokens and API keys must expire within ${days} days.`;
}

export function renderLifetimeSection(container, ctx) {
  const workspace = ctx.viewer.workspace;
  const { el, body } = section("Token lifetime", {
    id: "token-lifetime",
    description: "Require every new management token and API key to expire. The limit applies to those created " +
      "or rotated from now on; existing ones keep their expiry.",
  });
  const limited = h("input", { type: "checkbox", id: "lifetime-limited", checked: workspace.maxTokenLifetimeDays !== null });
  const days = h("input", { name: "maxTokenLifetimeDays", type: "number", min: 1, max: 3650,
    value: String(workspace.maxTokenLifetimeDays ?? SUGGESTED_DAYS), disabled: workspace.maxTokenLifetimeDays === null });
  limited.addEventListener("change", () => { days.disabled = !limited.checked; });
  const current = h("p", { class: "saved", role: "status" }, policy(workspace.maxTokenLifetimeDays));
  const form = h("form", { class: "settings", novalidate: true, "aria-labelledby": "token-lifetime-heading" },
    formError(),
    h("div", { class: "checkbox" }, limited,
      h("label", { for: "lifetime-limited" }, "Limit the lifetime of new tokens and API keys")),
    field("Longest lifetime in days", days, "1 to 3650."),
    h("button", { type: "submit", class: "button primary" }, "Save lifetime"), current);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    current.textContent = "";
    let value = null;
    if (limited.checked) {
      value = Number.parseInt(days.value, 10);
      if (Number.isNaN(value)) value = 0; // refused by the server, with the field's message
    }
    const payload = await submitMutation(form, async () =>
      (await gql(UPDATE_WORKSPACE_SETTINGS, { input: { maxTokenLifetimeDays: value } })).updateWorkspaceSettings);
    if (!payload) return;
    Object.assign(workspace, payload.workspace);
    current.textContent = `Saved. ${policy(workspace.maxTokenLifetimeDays)}`;
  });
  body.append(form);
  container.append(el);
}
