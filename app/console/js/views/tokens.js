// Management tokens: the table, + Create management token, and the ⋯ menu (View details, Rotate, Edit, Revoke key).

import { gql } from "../api.js";
import { confirmDialog, formDialog, openDialog, saveKeyDialog, submitMutation } from "../dialogs.js";
import { exactTime, field, h, PERMISSIONS, permissionLabel, timeCell, uid } from "../dom.js";
import { expiryCell, expiryField, graceField } from "../expiry.js";
import { optionsMenu } from "../menu.js";
import {
  CREATE_MANAGEMENT_TOKEN, MANAGEMENT_TOKENS, REVOKE_MANAGEMENT_TOKEN, ROTATE_MANAGEMENT_TOKEN, TOKEN_LIFETIME_POLICY,
} from "../queries.js";
import { pagedList, section, table } from "./common.js";
import { allowlistField, editTokenDialog, projectPicker } from "./token_limits.js";

export function renderTokensSection(container, ctx, { onChanged } = {}) {
  const create = h("button", { type: "button", class: "button primary" }, "+ Create management token");
  const { el, body, errors } = section("Management tokens", {
    id: "management-tokens",
    actions: [create],
    description: "Tokens authenticate programmatic access to workspace administration. They do not expire " +
      "unless you choose an expiration or revoke them.",
  });
  container.append(el);

  async function reload() {
    await pagedList(body, errors, {
      load: async (page) => (await gql(MANAGEMENT_TOKENS, page)).managementTokens,
      render: (tokens) => table("Management tokens",
        ["Name", "Key prefix", "Permissions", "Last used", "Created", "Status", "Expires", ""],
        tokens.map((token) => tokenRow(token, { reload, onChanged })),
        { empty: "No management tokens yet. Create one for your automation." }),
    });
  }
  create.addEventListener("click", () => createTokenDialog({ reload, onChanged }));
  reload();
  return { reload };
}

const STATUS_LABELS = { ACTIVE: "Active", REVOKED: "Revoked", EXPIRED: "Expired" };

function tokenRow(token, actions) {
  const revoked = token.status !== "ACTIVE";
  const items = [{ label: "View details", onSelect: () => detailsPanel(token) }];
  if (!revoked && !token.replacedBy) items.push({ label: "Rotate", onSelect: () => rotateDialog(token, actions) });
  if (!revoked) items.push({ label: "Edit", onSelect: () => editTokenDialog(token, actions) });
  if (!revoked) items.push({ label: "Revoke key", danger: true, onSelect: () => revokeDialog(token, actions) });
  return h("tr", { dataset: { tokenId: token.id }, class: revoked ? "revoked" : "" },
    h("th", { scope: "row" }, token.name,
      token.staleSince && !revoked
        ? h("span", { class: "badge stale", title: `Stale since ${exactTime(token.staleSince)}` }, "Stale") : null),
    h("td", {}, h("code", {}, token.keyPrefix)),
    h("td", { class: "permissions" }, token.permissions.map((p) => h("span", { class: "chip" }, permissionLabel(p)))),
    h("td", { class: "last-used" }, timeCell(token.lastUsedAt)),
    h("td", { class: "created" }, timeCell(token.createdAt, { relativeText: false })),
    h("td", { class: "status" }, h("span", { class: `badge ${token.status.toLowerCase()}` },
      STATUS_LABELS[token.status] || token.status)),
    h("td", { class: "expires" }, expiryCell(token.expiresAt)),
    h("td", { class: "row-actions" }, optionsMenu(`Options for ${token.name}`, items)));
}

async function createTokenDialog({ reload, onChanged }) {
  let maxDays = null;
  try {
    maxDays = (await gql(TOKEN_LIFETIME_POLICY)).viewer.workspace.maxTokenLifetimeDays;
  } catch {
    // The server checks the policy again; without it the dialog offers every choice.
  }
  const expiry = expiryField(maxDays, "token");
  const name = h("input", { name: "name", type: "text", maxlength: 100, autocomplete: "off",
    placeholder: "e.g. ci-pipeline" });
  const boxes = PERMISSIONS.map(([value, label, description]) => {
    const id = uid("perm");
    return h("div", { class: "checkbox" },
      h("input", { type: "checkbox", id, name: "permissions", value, "aria-describedby": `${id}-desc` }),
      h("label", { for: id }, label),
      h("p", { class: "hint", id: `${id}-desc` }, description));
  });
  const permissions = h("fieldset", { class: "field", dataset: { field: "permissions" } },
    h("legend", {}, "Permissions"),
    h("p", { class: "hint" }, "Select only the permissions your automation needs."),
    boxes, h("p", { class: "field-error", role: "alert", hidden: true }));
  const allowlist = allowlistField();
  const scope = projectPicker();
  formDialog({
    title: "Create management token",
    submitLabel: "Create management token",
    fields: [field("Name", name, "A descriptive name, such as the system that uses it."), permissions,
      scope.element, allowlist.element, expiry.element],
    onSubmit: async (form) => {
      const chosen = [...form.querySelectorAll("input[name=permissions]:checked")].map((box) => box.value);
      const input = {
        name: name.value, permissions: chosen, allowedIps: allowlist.value(), projectIds: scope.value(),
        expiresAt: expiry.value(),
      };
      const payload = await submitMutation(form, async () =>
        (await gql(CREATE_MANAGEMENT_TOKEN, { input })).createManagementToken);
      if (!payload) return false;
      showSecret(payload, "management token");
      reload();
      if (onChanged) onChanged();
      return true;
    },
  });
}

/** Hands the one-time value to the Save your key dialog and drops the payload's reference to it. */
function showSecret(payload, kind) {
  const { secret } = payload;
  payload.secret = null;
  const item = payload.managementToken || payload.apiKey;
  saveKeyDialog({ name: item.name, secret, kind });
}

export { showSecret };

function rotateDialog(token, { reload, onChanged }) {
  const grace = graceField("oldTokenExpiresAt", "token");
  confirmDialog({
    title: "Rotate management token",
    danger: false,
    confirmLabel: "Rotate",
    message: [
      h("p", {}, "Create a replacement for ", h("strong", {}, token.name), " (", h("code", {}, token.keyPrefix),
        ") with the same permissions."),
      grace.element,
    ],
    onConfirm: async (form) => {
      const input = { id: token.id, oldTokenExpiresAt: grace.value() };
      const payload = await submitMutation(form, async () =>
        (await gql(ROTATE_MANAGEMENT_TOKEN, { input })).rotateManagementToken);
      if (!payload) return false;
      showSecret(payload, "management token");
      reload();
      if (onChanged) onChanged();
      return true;
    },
  });
}

function revokeDialog(token, { reload, onChanged }) {
  confirmDialog({
    title: "Revoke management token",
    confirmLabel: "Revoke key",
    message: [
      h("p", {}, "Revoking a token disables it immediately. API requests made with it are rejected, which may " +
        "break any systems that depend on it."),
      h("dl", { class: "summary" },
        h("dt", {}, "Name"), h("dd", { class: "token-name" }, token.name),
        h("dt", {}, "Key"), h("dd", {}, h("code", { class: "token-prefix" }, token.keyPrefix))),
      h("p", { class: "warning" }, "Revoking a management token cannot be undone."),
    ],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(REVOKE_MANAGEMENT_TOKEN, { input: { id: token.id } })).revokeManagementToken);
      if (!payload) return false;
      reload();
      if (onChanged) onChanged();
      return true;
    },
  });
}

function detailsPanel(token) {
  const link = (other) => other ? [other.name, " (", h("code", {}, other.keyPrefix), ")"] : "—";
  const rows = [
    ["Name", token.name],
    ["Key prefix", h("code", {}, token.keyPrefix)],
    ["Status", token.status === "REVOKED" ? `Revoked ${exactTime(token.revokedAt)}`
      : STATUS_LABELS[token.status] || token.status],
    ["Expires", token.expiresAt ? exactTime(token.expiresAt) : "Never"],
    ["Last used", token.lastUsedAt ? [timeCell(token.lastUsedAt), ` (${exactTime(token.lastUsedAt)})`] : "Never"],
    ["Last used from", token.lastUsedIp || "—"],
    ["Stale", token.staleSince ? `Since ${exactTime(token.staleSince)}` : "No"],
    ["Permissions", h("ul", { class: "plain" }, token.permissions.map((p) => h("li", {}, permissionLabel(p))))],
    ["Projects", token.projects ? (token.projects.length
      ? h("ul", { class: "plain" }, token.projects.map((p) => h("li", {}, p.name))) : "None (its projects were deleted)")
      : "All projects"],
    ["Allowed IP addresses", token.allowedIps && token.allowedIps.length
      ? h("ul", { class: "plain" }, token.allowedIps.map((ip) => h("li", {}, h("code", {}, ip)))) : "Any address"],
    ["Created", exactTime(token.createdAt)],
    ["Created by", token.createdBy.label],
    ["Replaces", link(token.replaces)],
    ["Replaced by", link(token.replacedBy)],
  ];
  const close = h("button", { type: "button", class: "button secondary" }, "Close");
  const dialog = openDialog({
    title: "Token details",
    className: "drawer",
    body: h("dl", { class: "details" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    actions: [close],
  });
  close.addEventListener("click", () => dialog.close());
}
