// Sign up and log in: both return a session token, kept in sessionStorage only.

import { gql, session } from "../api.js";
import { formError, submitMutation } from "../dialogs.js";
import { field, h } from "../dom.js";
import { LOG_IN, SIGN_UP, SIGN_UP_OPEN } from "../queries.js";

export function renderAuth(root, { notice, onSignedIn, mode = "login" }) {
  const signUp = mode === "signup";
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", required: true,
    autocomplete: signUp ? "new-password" : "current-password" });
  const workspace = signUp ? h("input", { name: "workspaceName", type: "text", required: true }) : null;
  // Sign up is offered only while the server admits it (KEYWARD_SIGNUP); otherwise people join by invitation.
  const switchLine = h("p", { class: "switch", hidden: !signUp },
    signUp ? "Already have an account? " : "New to Keyward? ",
    h("button", { type: "button", class: "link", onclick: () => switchTo(signUp ? "login" : "signup") },
      signUp ? "Log in" : "Sign up"));
  if (!signUp) {
    gql(SIGN_UP_OPEN).then((data) => { switchLine.hidden = !data.signUpOpen; }, () => {});
  }
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "auth-title" },
    h("h1", { id: "auth-title" }, signUp ? "Create your workspace" : "Log in to Keyward"),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    formError(),
    field("Email", email),
    field("Password", password, signUp ? "At least 10 characters." : null),
    workspace ? field("Workspace name", workspace) : null,
    h("button", { type: "submit", class: "button primary wide" }, signUp ? "Sign up" : "Log in"),
    switchLine);

  function switchTo(next) {
    root.replaceChildren();
    renderAuth(root, { onSignedIn, mode: next });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const payload = await submitMutation(form, async () => {
      if (signUp) {
        const input = { email: email.value, password: password.value, workspaceName: workspace.value };
        return (await gql(SIGN_UP, { input })).signUp;
      }
      return (await gql(LOG_IN, { input: { email: email.value, password: password.value } })).logIn;
    });
    if (payload && payload.sessionToken) {
      session.set(payload.sessionToken);
      password.value = "";
      onSignedIn();
    }
  });
  root.append(h("main", { class: "auth" }, h("div", { class: "brand" }, "Keyward"), form));
  email.focus();
}
