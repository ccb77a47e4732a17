// What limits a credential beyond its permissions: the IP allowlist field, the project picker of a
// management token, and the Edit dialog of a token (name, permissions, allowlist, an earlier expiry).

import { gql } from "../api.js";
import { formDialog, submitMutation } from "../dialogs.js";
import { field, h, PERMISSIONS, uid } from "../dom.js";
import { PROJECT_CHOICES, UPDATE_MANAGEMENT_TOKEN } from "../queries.js";

/** A textarea of addresses and CIDR ranges, one a line; `value()` is the list (empty: any address). */
export function allowlistField(current = []) {
  const control = h("textarea", { name: "allowedIps", rows: 3, spellcheck: "false", autocomplete: "off",
    placeholder: "203.0.113.7\n198.51.100.0/24\n2001:db8::/48" });
  control.value = current.join("\n");
  const element = field("Allowed IP addresses", control,
    "One IPv4 or IPv6 address or CIDR range a line, at most 100. Leave empty to allow any address.");
  return { element, value: () => control.value.split(/[\n,]/).map((line) => line.trim()).filter(Boolean) };
}

/** Every project, or only the chosen ones; `value()` is null (every project) or the chosen IDs. */
export function projectPicker() {
  const name = uid("scope");
  const every = h("input", { type: "radio", name, id: `${name}-every`, value: "every", checked: true });
  const some = h("input", { type: "radio", name, id: `${name}-some`, value: "some" });
  const list = h("div", { class: "project-choices", hidden: true }, h("p", { class: "hint" }, "Loading projects…"));
  const element = h("fieldset", { class: "field", dataset: { field: "projectIds" } },
    h("legend", {}, "Projects"),
    h("div", { class: "radio" }, every, h("label", { for: every.id }, "All projects, also those created later")),
    h("div", { class: "radio" }, some, h("label", { for: some.id }, "Only these projects")),
    list,
    h("p", { class: "hint" }, "A token limited to some projects sees and manages only them, and cannot create " +
      "projects."),
    h("p", { class: "field-error", role: "alert", hidden: true }));
  const toggle = () => { list.hidden = !some.checked; };
  every.addEventListener("change", toggle);
  some.addEventListener("change", toggle);
  gql(PROJECT_CHOICES).then((data) => {
    const projects = data.projects.edges.map((edge) => edge.node);
    list.replaceChildren(...(projects.length ? projects.map((project) => {
      const id = uid("project");
      return h("div", { class: "checkbox" },
        h("input", { type: "checkbox", id, name: "projectIds", value: project.id }),
        h("label", { for: id }, project.name));
    }) : [h("p", { class: "hint" }, "This workspace has no projects yet.")]));
  }).catch((error) => list.replaceChildren(h("p", { class: "field-error" }, `Projects not loaded: ${error.message}`)));
  return {
    element,
    value: () => some.checked
      ? [...element.querySelectorAll("input[name=projectIds]:checked")].map((box) => box.value) : null,
  };
}

/** A datetime-local value as an ISO time in UTC, or null when empty. */
function isoOrNull(value) {
  return value ? new Date(value).toISOString() : null;
}

function sameList(a, b) {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((item, index) => item === y[index]);
}

/** Edit: name, permissions, allowlist, and an earlier expiry. Only what changed is sent. */
export function editTokenDialog(token, { reload, onChanged }) {
  const name = h("input", { name: "name", type: "text", maxlength: 100, autocomplete: "off", value: token.name });
  const boxes = PERMISSIONS.map(([value, label]) => {
    const id = uid("perm");
    return h("div", { class: "checkbox" },
      h("input", { type: "checkbox", id, name: "permissions", value, checked: token.permissions.includes(value) }),
      h("label", { for: id }, label));
  });
  const permissions = h("fieldset", { class: "field", dataset: { field: "permissions" } },
    h("legend", {}, "Permissions"), boxes, h("p", { class: "field-error", role: "alert", hidden: true }));
  const allowlist = allowlistField(token.allowedIps || []);
  const expiry = h("input", { name: "expiresAt", type: "datetime-local" });
  const expiryHint = token.expiresAt
    ? `Now ${new Date(token.expiresAt).toLocaleString()}. Only an earlier time is accepted: rotate the token for a ` +
      "longer lifetime."
    : "The token does not expire. Set a time to make it stop working then (it cannot be removed later).";
  formDialog({
    title: "Edit management token",
    submitLabel: "Save changes",
    fields: [
      field("Name", name),
      permissions,
      allowlist.element,
      field("Expires at (earlier only)", expiry, expiryHint),
    ],
    onSubmit: async (form) => {
      const input = { id: token.id };
      if (name.value !== token.name) input.name = name.value;
      const chosen = [...form.querySelectorAll("input[name=permissions]:checked")].map((box) => box.value);
      if (!sameList(chosen, token.permissions)) input.permissions = chosen;
      const ips = allowlist.value();
      if (!sameList(ips, token.allowedIps || [])) input.allowedIps = ips;
      if (expiry.value) input.expiresAt = isoOrNull(expiry.value);
      const payload = await submitMutation(form, async () =>
        (await gql(UPDATE_MANAGEMENT_TOKEN, { input })).updateManagementToken);
      if (!payload) return false;
      reload();
      if (onChanged) onChanged();
      return true;
    },
  });
}
