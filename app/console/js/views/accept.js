// Accepting an invitation (#/accept-invitation/<kwi_ token>): a new person chooses a password, an
// existing account gives its own (or is signed in already). The token is dropped from the address bar
// and history at once; accepting signs in to the workspace.

import { gql, session } from "../api.js";
import { formError, submitMutation } from "../dialogs.js";
import { field, h } from "../dom.js";
import { ACCEPT_INVITATION } from "../queries.js";

export const ACCEPT_ROUTE = "#/accept-invitation/";

/** The token of an invitation link in the address, removed from the address bar and history. */
export function takeInvitationToken() {
  if (!location.hash.startsWith(ACCEPT_ROUTE)) return null;
  const token = decodeURIComponent(location.hash.slice(ACCEPT_ROUTE.length));
  history.replaceState(null, "", `${location.pathname}#/accept-invitation`);
  return token;
}

export function renderAccept(root, { token, onAccepted, onCancel }) {
  const signedIn = Boolean(session.get());
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "accept-title" },
    h("h1", { id: "accept-title" }, "Accept invitation"),
    h("p", {}, signedIn
      ? "You are signed in: accept to join the workspace with this account, or give the password of the " +
        "invited account."
      : "New to Keyward? Choose a password for your account. Already have one? Enter its password."),
    formError(),
    field("Password", password, signedIn ? "Leave empty to join as the signed-in account." : "At least 10 characters."),
    h("button", { type: "submit", class: "button primary wide" }, "Accept invitation"),
    h("p", { class: "switch" }, h("button", { type: "button", class: "link", onclick: onCancel }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const payload = await submitMutation(form, async () => (await gql(ACCEPT_INVITATION, {
      input: { inviteToken: token, password: password.value || null },
    })).acceptInvitation);
    if (!payload) return;
    password.value = "";
    session.set(payload.sessionToken);
    onAccepted();
  });
  root.append(h("main", { class: "auth" }, h("div", { class: "brand" }, "Keyward"), form));
  password.focus();
}
