// Projects (list, create, rename, delete) and each project's API keys (create once-shown, list, delete).

import { gql } from "../api.js";
import { confirmDialog, formDialog, submitMutation } from "../dialogs.js";
import { field, h, timeCell } from "../dom.js";
import { expiryCell, expiryField, graceField } from "../expiry.js";
import { optionsMenu } from "../menu.js";
import {
  API_KEYS, CREATE_API_KEY, CREATE_PROJECT, DELETE_API_KEY, DELETE_PROJECT, PROJECT, PROJECTS, ROTATE_API_KEY,
  TOKEN_LIFETIME_POLICY, UPDATE_PROJECT,
} from "../queries.js";
import { pagedList, section, showSectionError, table } from "./common.js";
import { allowlistField } from "./token_limits.js";
import { showSecret } from "./tokens.js";

const projectHref = (id) => `#/projects/${encodeURIComponent(id)}`;

export function renderProjects(main, ctx) {
  const canManage = ctx.can("MANAGE_PROJECTS");
  main.append(h("header", { class: "page-header" }, h("h1", {}, "Projects")));
  const create = canManage ? h("button", { type: "button", class: "button primary" }, "+ Create project") : null;
  const { el, body, errors } = section("All projects", { id: "projects", actions: [create] });
  main.append(el);

  async function reload() {
    await pagedList(body, errors, {
      load: async (page) => (await gql(PROJECTS, page)).projects,
      render: (projects) => table("Projects", ["Name", "Description", "Created", ""],
        projects.map((project) => h("tr", { dataset: { projectId: project.id } },
          h("th", { scope: "row" }, h("a", { href: projectHref(project.id) }, project.name)),
          h("td", {}, project.description || ""),
          h("td", {}, timeCell(project.createdAt, { relativeText: false })),
          h("td", { class: "row-actions" }, canManage ? projectMenu(project, reload) : null))),
        { empty: canManage ? "No projects yet. Create one to start issuing API keys." : "No projects yet." }),
    });
  }
  if (create) create.addEventListener("click", () => projectDialog(null, (project) => {
    location.hash = projectHref(project.id);
  }));
  reload();
}

function projectMenu(project, reload) {
  return optionsMenu(`Options for ${project.name}`, [
    { label: "Rename", onSelect: () => projectDialog(project, reload) },
    { label: "Delete project", danger: true, onSelect: () => deleteProjectDialog(project, reload) },
  ]);
}

function projectDialog(project, onSaved) {
  const name = h("input", { name: "name", type: "text", maxlength: 100, value: project ? project.name : "",
    autocomplete: "off" });
  const description = h("textarea", { name: "description", rows: 3 });
  description.value = project && project.description ? project.description : "";
  formDialog({
    title: project ? "Rename project" : "Create project",
    submitLabel: project ? "Save" : "Create project",
    fields: [field("Name", name), field("Description (optional)", description)],
    onSubmit: async (form) => {
      const payload = await submitMutation(form, async () => {
        if (project) {
          const input = { id: project.id, name: name.value, description: description.value || null };
          return (await gql(UPDATE_PROJECT, { input })).updateProject;
        }
        const input = { name: name.value, description: description.value || null };
        return (await gql(CREATE_PROJECT, { input })).createProject;
      });
      if (!payload) return false;
      onSaved(payload.project);
      return true;
    },
  });
}

function deleteProjectDialog(project, onDeleted) {
  confirmDialog({
    title: "Delete project",
    confirmLabel: "Delete project",
    message: [
      h("p", {}, "Delete ", h("strong", {}, project.name), " and every API key in it?"),
      h("p", { class: "warning" }, "Services using its API keys stop working at once. This cannot be undone."),
    ],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(DELETE_PROJECT, { input: { id: project.id } })).deleteProject);
      if (!payload) return false;
      onDeleted();
      return true;
    },
  });
}

export async function renderProject(main, ctx, id) {
  const header = h("header", { class: "page-header" },
    h("p", { class: "breadcrumb" }, h("a", { href: "#/projects" }, "Projects")), h("h1", {}, "Project"));
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  main.append(header, problem);
  let project;
  try {
    project = (await gql(PROJECT, { id })).node;
  } catch (error) {
    showSectionError(problem, error);
    return;
  }
  if (!header.isConnected) return; // the person left this page while it loaded: `main` shows another one
  if (!project || !project.name) {
    showSectionError(problem, new Error("This project does not exist (it may have been deleted)."));
    return;
  }
  const title = header.querySelector("h1");
  title.textContent = project.name;
  if (project.description) header.append(h("p", { class: "muted" }, project.description));
  if (ctx.can("MANAGE_PROJECTS")) {
    header.append(h("div", { class: "section-actions" },
      h("button", { type: "button", class: "button secondary", onclick: () => projectDialog(project, (saved) => {
        project.name = saved.name;
        project.description = saved.description;
        title.textContent = saved.name;
      }) }, "Rename"),
      h("button", { type: "button", class: "button danger", onclick: () => deleteProjectDialog(project, () => {
        location.hash = "#/projects";
      }) }, "Delete project")));
  }
  if (ctx.can("VIEW_API_KEYS")) renderApiKeys(main, ctx, project);
}

function renderApiKeys(main, ctx, project) {
  const create = ctx.can("CREATE_API_KEY")
    ? h("button", { type: "button", class: "button primary" }, "+ Create API key") : null;
  const { el, body, errors } = section("API keys", {
    id: "api-keys",
    actions: [create],
    description: "Services send an API key to the data plane; the key value is shown once, when it is created.",
  });
  main.append(el);
  const canDelete = ctx.can("DELETE_API_KEYS");
  const canRotate = ctx.can("CREATE_API_KEY");

  async function reload() {
    await pagedList(body, errors, {
      load: async (page) => (await gql(API_KEYS, { projectId: project.id, ...page })).apiKeys,
      render: (keys) => table("API keys",
        ["Name", "Key prefix", "Last used", "Created", "Created by", "Expires", "Status", ""],
        keys.map((key) => h("tr", { dataset: { apiKeyId: key.id }, class: key.status === "EXPIRED" ? "revoked" : "" },
          h("th", { scope: "row" }, key.name),
          h("td", {}, h("code", {}, key.keyPrefix)),
          h("td", { class: "last-used" }, timeCell(key.lastUsedAt)),
          h("td", {}, timeCell(key.createdAt, { relativeText: false })),
          h("td", {}, key.createdBy.label),
          h("td", { class: "expires" }, expiryCell(key.expiresAt)),
          h("td", { class: "status" }, h("span", { class: `badge ${key.status.toLowerCase()}` },
            key.status === "EXPIRED" ? "Expired" : "Active")),
          h("td", { class: "row-actions" },
            canRotate && key.status === "ACTIVE"
              ? h("button", { type: "button", class: "button secondary small", "aria-label": `Rotate ${key.name}`,
                onclick: () => rotateKeyDialog(key, reload) }, "Rotate") : null,
            canDelete
              ? h("button", { type: "button", class: "button danger small", "aria-label": `Delete ${key.name}`,
                onclick: () => deleteKeyDialog(key, reload) }, "Delete") : null))),
        { empty: "No API keys in this project yet." }),
    });
  }
  if (create) create.addEventListener("click", () => createKeyDialog(project, reload));
  reload();
}

async function createKeyDialog(project, reload) {
  let maxDays = null;
  try {
    maxDays = (await gql(TOKEN_LIFETIME_POLICY)).viewer.workspace.maxTokenLifetimeDays;
  } catch {
    // The server checks the policy again; without it the dialog offers every choice.
  }
  const expiry = expiryField(maxDays, "key");
  const name = h("input", { name: "name", type: "text", maxlength: 100, autocomplete: "off",
    placeholder: "e.g. web-server" });
  const allowlist = allowlistField();
  formDialog({
    title: "Create API key",
    submitLabel: "Create API key",
    fields: [field("Name", name, `A key for the project ${project.name}.`), allowlist.element, expiry.element],
    onSubmit: async (form) => {
      const input = {
        projectId: project.id, name: name.value, allowedIps: allowlist.value(), expiresAt: expiry.value(),
      };
      const payload = await submitMutation(form, async () => (await gql(CREATE_API_KEY, { input })).createApiKey);
      if (!payload) return false;
      showSecret(payload, "API key");
      reload();
      return true;
    },
  });
}

function rotateKeyDialog(key, reload) {
  const grace = graceField("oldKeyExpiresAt", "key");
  confirmDialog({
    title: "Rotate API key",
    danger: false,
    confirmLabel: "Rotate",
    message: [
      h("p", {}, "Create a replacement for ", h("strong", {}, key.name), " (", h("code", {}, key.keyPrefix),
        ") with the same name, metadata and allowlist."),
      grace.element,
    ],
    onConfirm: async (form) => {
      const input = { id: key.id, oldKeyExpiresAt: grace.value() };
      const payload = await submitMutation(form, async () => (await gql(ROTATE_API_KEY, { input })).rotateApiKey);
      if (!payload) return false;
      showSecret(payload, "API key");
      reload();
      return true;
    },
  });
}

function deleteKeyDialog(key, reload) {
  confirmDialog({
    title: "Delete API key",
    confirmLabel: "Delete API key",
    message: [
      h("p", {}, "Delete the API key ", h("strong", {}, key.name), " (", h("code", {}, key.keyPrefix), ")?"),
      h("p", { class: "warning" }, "Requests with this key are refused at once. This cannot be undone."),
    ],
    onConfirm: async (form) => {
      const payload = await submitMutation(form, async () =>
        (await gql(DELETE_API_KEY, { input: { id: key.id } })).deleteApiKey);
      if (!payload) return false;
      reload();
      return true;
    },
  });
}
