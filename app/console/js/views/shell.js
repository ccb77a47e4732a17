// The signed-in layout: sidebar (Workspace → Manage workspace, Projects, Webhooks, Audit log) and the routed page.

import { gql, session } from "../api.js";
import { clear, h } from "../dom.js";
import { LOG_OUT } from "../queries.js";
import { renderAudit } from "./audit.js";
import { renderProject, renderProjects } from "./projects.js";
import { renderWebhookDeliveries, renderWebhooks } from "./webhooks.js";
import { renderWorkspace } from "./workspace.js";

export function renderShell(root, { viewer, onSignedOut }) {
  const isAdmin = viewer.role === "OWNER" || viewer.role === "ADMIN";
  const ctx = {
    viewer,
    isAdmin,
    can: (permission) => viewer.permissions.includes(permission),
  };
  const main = h("main", { class: "content", id: "content", tabindex: "-1" });
  const links = [
    ["#/workspace", "Manage workspace", true],
    ["#/projects", "Projects", ctx.can("VIEW_PROJECTS")],
    ["#/webhooks", "Webhooks", isAdmin],
    ["#/audit", "Audit log", isAdmin],
  ].filter(([, , shown]) => shown);
  const nav = h("nav", { class: "sidebar", "aria-label": "Console" },
    h("div", { class: "brand" }, "Keyward"),
    h("div", { class: "workspace-name", title: "Workspace" }, viewer.workspace.name),
    h("h2", { class: "nav-group", id: "nav-workspace" }, "Workspace"),
    h("ul", { "aria-labelledby": "nav-workspace" },
      links.map(([href, text]) => h("li", {}, h("a", { href, dataset: { route: href } }, text)))),
    h("div", { class: "whoami" },
      h("span", { class: "email" }, viewer.email),
      h("span", { class: "badge role" }, viewer.role),
      h("button", { type: "button", class: "button secondary small", onclick: logOut }, "Log out")));
  root.append(h("div", { class: "shell" }, nav, main));

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
    else renderWorkspace(main, ctx);
  }

  window.addEventListener("hashchange", route);
  route();
}
