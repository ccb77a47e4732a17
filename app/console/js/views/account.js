// Your account: change the password (every other session ends) and start another workspace.

import { gql, session } from "../api.js";
import { formError, submitMutation } from "../dialogs.js";
import { field, h } from "../dom.js";
import { CHANGE_PASSWORD, CREATE_WORKSPACE } from "../queries.js";
import { section } from "./common.js";

export function renderAccount(main, ctx, { onSessionChanged }) {
  main.append(h("header", { class: "page-header" },
    h("h1", {}, "Your account"),
    h("p", { class: "muted" }, ctx.viewer.email)));
  renderPasswordSection(main);
  renderNewWorkspaceSection(main, { onSessionChanged });
}

function renderPasswordSection(container) {
  const { el, body } = section("Change password", {
    id: "change-password",
    description: "Changing your password ends every other session of yours, in every workspace.",
  });
  container.append(el);
  const current = h("input", { name: "currentPassword", type: "password", autocomplete: "current-password" });
  const next = h("input", { name: "newPassword", type: "password", autocomplete: "new-password" });
  const done = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "settings", novalidate: true, "aria-label": "Change password" },
    formError(),
    field("Current password", current),
    field("New password", next, "At least 10 characters, not easy to guess."),
    h("button", { type: "submit", class: "button primary" }, "Change password"), done);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    done.textContent = "";
    const payload = await submitMutation(form, async () => (await gql(CHANGE_PASSWORD, {
      input: { currentPassword: current.value, newPassword: next.value },
    })).changePassword);
    if (!payload) return;
    session.set(payload.sessionToken);
    form.reset();
    done.textContent = "Password changed. Your other sessions have ended.";
  });
  body.append(form);
}

function renderNewWorkspaceSection(container, { onSessionChanged }) {
  const { el, body } = section("New workspace", {
    id: "new-workspace",
    description: "Start another workspace, with you as its owner. Switch between your workspaces in the sidebar.",
  });
  container.append(el);
  const name = h("input", { name: "name", type: "text", maxlength: 100, autocomplete: "off" });
  const form = h("form", { class: "settings", novalidate: true, "aria-label": "New workspace" },
    formError(), field("Workspace name", name),
    h("button", { type: "submit", class: "button primary" }, "Create workspace"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const payload = await submitMutation(form, async () =>
      (await gql(CREATE_WORKSPACE, { input: { name: name.value } })).createWorkspace);
    if (!payload) return;
    session.set(payload.sessionToken);
    onSessionChanged();
  });
  body.append(form);
}
