// Members: an OWNER or ADMIN creates an account for a colleague with a role and an initial password.

import { gql } from "../api.js";
import { formError, submitMutation } from "../dialogs.js";
import { field, h } from "../dom.js";
import { ADD_MEMBER } from "../queries.js";
import { section } from "./common.js";

export function renderMembersSection(container, ctx) {
  const { el, body } = section("Members", {
    id: "members",
    description: "Add a person to this workspace. Admins manage tokens and settings; members can only view " +
      "projects and API keys.",
  });
  container.append(el);
  const email = h("input", { name: "email", type: "email", autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const roles = ctx.viewer.role === "OWNER" ? ["MEMBER", "ADMIN", "OWNER"] : ["MEMBER", "ADMIN"];
  const role = h("select", { name: "role" }, roles.map((value) => h("option", { value }, value)));
  const added = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "settings", novalidate: true, "aria-label": "Add member" },
    formError(),
    field("Email", email),
    field("Initial password", password, "At least 10 characters; share it with the person securely."),
    field("Role", role),
    h("button", { type: "submit", class: "button primary" }, "Add member"), added);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    added.textContent = "";
    const payload = await submitMutation(form, async () => (await gql(ADD_MEMBER, {
      input: { email: email.value, password: password.value, role: role.value },
    })).addMember);
    if (!payload) return;
    added.textContent = `Added ${payload.member.email} as ${payload.member.role}.`;
    form.reset();
  });
  body.append(form);
}
