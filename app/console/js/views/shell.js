// The signed-in layout: sidebar (workspace switcher; Manage workspace, People, Projects, Webhooks, Audit log;
// Your account) and the routed page.

import { gql, session } from "../api.js";
import { clear, h } from "../dom.js";
import { LOG_OUT, SWITCH_WORKSPACE } from "../queries.js";
import { renderAccount } from "./account.js";
import { renderAudit } from "./audit.js";
import { renderPeople } from "./members.js";
import { renderProject, renderProjects } from "./projects.js";
import { renderWebhookDeliveries, renderWebhooks } from "./webhooks.js";
import { renderWorkspace } from "./workspace.js";

export function renderShell(root, { viewer, onSignedOut, onSessionChanged }) {
  const isAdmin = viewer.role === "OWNER" || viewer.role === "ADMIN";
  const ctx = {
    viewer,
    isAdmin,
    can: (permission) => viewer.permissions.includes(permission),
  };
  const main = h("main", { class: "content", id: "content", tabindex: "-1" });
  const links = [
    ["#/workspace", "Manage workspace", true],
    ["#/people", "People", true],
    ["#/projects", "Projects", ctx.can("VIEW_PROJECTS")],
    ["#/webhooks", "Webhooks", isAdmin],
    ["#/audit", "Audit log", isAdmin],
  ].filter(([, , shown]) => shown);
  const nav = h("nav", { class: "sidebar", "aria-label": "Console" },
    h("div", { class: "brand" }, "Keyward"),
    workspaceSwitcher(),
    h("h2", { class: "nav-group", id: "nav-workspace" }, "Workspace"),
    h("ul", { "aria-labelledby": "nav-workspace" },
      links.map(([href, text]) => h("li", {}, h("a", { href, dataset: { route: href } }, text)))),
    h("div", { class: "whoami" },
      h("a", { class: "email", href: "#/account", dataset: { route: "#/account" }, title: "Your account" },
        viewer.email),
      h("span", { class: "badge role" }, viewer.role),
      h("button", { type: "button", class: "button secondary small", onclick: logOut }, "Log out")));
  root.append(h("div", { class: "shell" }, nav, main));

  function workspaceSwitcher() {
    const workspaces = viewer.workspaces || [];
    if (workspaces.length < 2) return h("div", { class: "workspace-name", title: "Workspace" }, viewer.workspace.name);
    const select = h("select", { class: "workspace-switcher", "aria-label": "Switch workspace" },
      workspaces.map((w) => h("option", { value: w.id, selected: w.id === viewer.workspace.id }, w.name)));
    select.addEventListener("change", async () => {
      select.disabled = true;
      try {
        const payload = (await gql(SWITCH_WORKSPACE, { input: { workspaceId: select.value } })).switchWorkspace;
        if (payload.sessionToken) {
          session.set(payload.sessionToken);
          location.hash = "";
          onSessionChanged();
          return;
        }
      } catch {
        // The error is the API's; staying in this workspace is the safe answer.
      }
      select.value = viewer.workspace.id;
      select.disabled = false;
    });
    return select;
  }

  async function logOut() {
    try {
      await gql(LOG_OUT);
    } catch {
      // The session may already be gone; signing out locally is what matters.
    }
    session.clear();
    window.removeEventListener("hashchange", route);
    location.hash = "";
    onSignedOut("You have logged out.");
  }

  function signedOutHere(message) {
    window.removeEventListener("hashchange", route);
    location.hash = "";
    onSignedOut(message);
  }

  function route() {
    if (!root.contains(main)) {
      window.removeEventListener("hashchange", route);
      return;
    }
    const hash = location.hash || "#/workspace";
    const [, page, id] = hash.split("/");
    for (const link of nav.querySelectorAll("a[data-route]")) {
      const current = hash === link.dataset.route || hash.startsWith(`${link.dataset.route}/`);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    clear(main);
    if (page === "projects" && id && ctx.can("VIEW_PROJECTS")) renderProject(main, ctx, decodeURIComponent(id));
    else if (page === "projects" && ctx.can("VIEW_PROJECTS")) renderProjects(main, ctx);
    else if (page === "webhooks" && id && isAdmin) renderWebhookDeliveries(main, ctx, decodeURIComponent(id));
    else if (page === "webhooks" && isAdmin) renderWebhooks(main, ctx);
    else if (page === "audit" && isAdmin) renderAudit(main, ctx);
    else if (page === "people") renderPeople(main, ctx, { onSignedOut: signedOutHere });
    else if (page === "account") renderAccount(main, ctx, { onSessionChanged });
    else renderWorkspace(main, ctx);
  }

  window.addEventListener("hashchange", route);
  route();
}
