// Boot and routing: the log-in screen without a session, else the shell with its sidebar.

import { ApiError, gql, session, signedOut } from "./api.js";
import { clear, h } from "./dom.js";
import { VIEWER_QUERY } from "./queries.js";
import { ACCEPT_ROUTE, renderAccept, takeInvitationToken } from "./views/accept.js";
import { renderAuth } from "./views/auth.js";
import { renderShell } from "./views/shell.js";

const root = document.getElementById("app");
// An invitation link opens the accept page, signed in or not; the token leaves the address at once.
let invitation = takeInvitationToken();

function leaveInvitation() {
  invitation = null;
  location.hash = "";
  boot();
}

window.addEventListener("hashchange", () => {
  if (!location.hash.startsWith(ACCEPT_ROUTE)) return;
  invitation = takeInvitationToken();
  boot();
});

// Each boot owns the page until a newer one starts (an invitation link, a sign-out, a new session): a
// boot that resumes after an await it was overtaken in leaves the page to the newer one.
let latestBoot = 0;

async function boot(notice) {
  const thisBoot = ++latestBoot;
  clear(root);
  if (invitation) {
    renderAccept(root, { token: invitation, onAccepted: leaveInvitation, onCancel: leaveInvitation });
    return;
  }
  if (!session.get()) {
    renderAuth(root, { notice, onSignedIn: () => boot() });
    return;
  }
  root.append(h("p", { class: "loading" }, "Loading…"));
  let viewer;
  try {
    viewer = (await gql(VIEWER_QUERY)).viewer;
  } catch (error) {
    if (thisBoot !== latestBoot) return;
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return; // signedOut handles it
    clear(root);
    root.append(h("p", { class: "form-error", role: "alert" }, `The console could not load: ${error.message}`));
    return;
  }
  if (thisBoot !== latestBoot) return;
  clear(root);
  renderShell(root, { viewer, onSignedOut: (message) => boot(message), onSessionChanged: () => boot() });
}

signedOut.addEventListener("signed-out", (event) => {
  for (const dialog of document.querySelectorAll("dialog")) dialog.close();
  boot(`${event.detail} Log in again.`);
});

boot();
