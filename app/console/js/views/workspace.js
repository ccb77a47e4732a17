// Manage workspace: management tokens, stale tokens and the token lifetime policy for OWNER/ADMIN; a
// read-only note otherwise.
// People (members and invitations) have a page of their own.

import { h } from "../dom.js";
import { renderLifetimeSection } from "./lifetime.js";
import { renderStaleSection } from "./stale.js";
import { renderTokensSection } from "./tokens.js";

export function renderWorkspace(main, ctx) {
  main.append(h("header", { class: "page-header" },
    h("h1", {}, "Manage workspace"),
    h("p", { class: "muted" }, ctx.viewer.workspace.name)));
  if (!ctx.isAdmin) {
    main.append(h("section", { class: "panel" },
      h("h2", {}, "Your access"),
      h("p", {}, `You are a ${ctx.viewer.role.toLowerCase()} of this workspace: you can view projects and API ` +
        "keys and see who else is here. Management tokens, stale tokens, invitations and the audit log are managed by " +
        "owners and admins."),
      ctx.can("VIEW_PROJECTS") ? h("p", {}, h("a", { href: "#/projects" }, "View projects")) : null));
    return;
  }
  let stale = null;
  const tokens = renderTokensSection(main, ctx, { onChanged: () => stale && stale.reload() });
  stale = renderStaleSection(main, ctx, { onChanged: () => tokens.reload() });
  renderLifetimeSection(main, ctx);
}
