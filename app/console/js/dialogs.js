// Modal dialogs on <dialog>.showModal(): the browser moves focus in, traps it, and closes on Escape.
// Every dialog is removed from the document when it closes, so nothing it showed stays in the page.

import { ApiError } from "./api.js";
import { h } from "./dom.js";

export function openDialog({ title, body, actions = [], className = "", onClose, labelledBy }) {
  const titleId = labelledBy || `dialog-title-${Math.random().toString(36).slice(2)}`;
  const closeButton = h("button", { type: "button", class: "icon-button dialog-close", "aria-label": "Close" }, "×");
  const dialog = h("dialog", { class: `dialog ${className}`, "aria-labelledby": titleId },
    h("header", { class: "dialog-header" }, h("h2", { id: titleId }, title), closeButton),
    h("div", { class: "dialog-body" }, body),
    actions.length ? h("footer", { class: "dialog-actions" }, actions) : null);
  closeButton.addEventListener("click", () => dialog.close());
  const opener = document.activeElement;
  dialog.addEventListener("close", () => {
    if (onClose) onClose(dialog);
    dialog.remove();
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = dialog.querySelector("[autofocus]") ||
    dialog.querySelector(".dialog-body input, .dialog-body select, .dialog-body textarea, .dialog-body button");
  if (first) first.focus();
  return dialog;
}

/** Show userErrors next to the control they name (the innermost path element that is one), else at the form's top. */
export function applyUserErrors(form, userErrors) {
  clearErrors(form);
  let firstInvalid = null;
  for (const error of userErrors) {
    // The innermost path element that names a field: ["allowedIps", "1"] is the allowlist field.
    const names = error.field ? [...error.field].reverse() : [];
    const wrapper = names.map((name) => form.querySelector(`[data-field="${CSS.escape(name)}"]`))
      .find((found) => found) || null;
    if (wrapper) {
      const slot = wrapper.querySelector(".field-error");
      slot.textContent = error.message;
      slot.hidden = false;
      const control = wrapper.querySelector("input, select, textarea, fieldset");
      if (control) {
        control.setAttribute("aria-invalid", "true");
        firstInvalid = firstInvalid || control;
      }
    } else {
      showFormError(form, error.message);
    }
  }
  if (firstInvalid && typeof firstInvalid.focus === "function") firstInvalid.focus();
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  showFormError(form, "");
}

export function showFormError(form, message) {
  const slot = form.querySelector(".form-error");
  if (!slot) return;
  slot.textContent = message;
  slot.hidden = !message;
}

export function formError() {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

/**
 * Run a mutation from a form: disables the submit button while it runs, shows userErrors next to
 * their fields and API errors in words at the top of the form. Resolves to the payload on success, else null.
 */
export async function submitMutation(form, run) {
  const submit = form.querySelector("[type=submit]");
  clearErrors(form);
  if (submit) submit.disabled = true;
  try {
    const payload = await run();
    if (payload && payload.userErrors && payload.userErrors.length) {
      applyUserErrors(form, payload.userErrors);
      return null;
    }
    return payload;
  } catch (error) {
    showFormError(form, error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`);
    return null;
  } finally {
    if (submit) submit.disabled = false;
  }
}

/** A dialog around a form; `onSubmit(form)` returns true to close it. */
export function formDialog({ title, fields, submitLabel, danger = false, onSubmit, className = "" }) {
  const cancel = h("button", { type: "button", class: "button secondary" }, "Cancel");
  const submit = h("button", { type: "submit", class: danger ? "button danger" : "button primary" }, submitLabel);
  const form = h("form", { class: "dialog-form", novalidate: true }, formError(), fields,
    h("div", { class: "dialog-actions" }, cancel, submit));
  const dialog = openDialog({ title, body: form, className });
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await onSubmit(form)) dialog.close();
  });
  return dialog;
}

/** A confirmation: `onConfirm(form)` runs the mutation; the dialog stays open to show a failure. */
export function confirmDialog({ title, message, confirmLabel, danger = true, onConfirm }) {
  return formDialog({ title, fields: message, submitLabel: confirmLabel, danger, onSubmit: onConfirm,
    className: "confirm" });
}

/**
 * The "Save your key" dialog: the value once, a copy button, the warning. On close the value is
 * wiped from the input and the dialog leaves the document; callers keep no reference to it.
 */
export function saveKeyDialog({ name, secret, kind = "management token", onClosed }) {
  return copyOnceDialog({
    title: "Save your key",
    intro: h("p", {}, `Copy the value of the ${kind} `, h("strong", {}, name), " and store it in a secure location now."),
    label: "Key value",
    value: secret,
    warning: "You cannot access this value again after closing this dialog.",
    doneLabel: "I have saved my key",
    onClosed,
  });
}

/**
 * A value shown once (a secret, an invitation link) with a copy button and a warning. On close the value
 * is wiped from the input and the dialog leaves the document.
 */
export function copyOnceDialog({ title, intro, label, value, warning, doneLabel = "Done", onClosed }) {
  const valueId = `secret-${Math.random().toString(36).slice(2)}`;
  const input = h("input", { id: valueId, class: "secret", type: "text", readonly: true, value,
    spellcheck: "false", autocomplete: "off", "aria-describedby": `${valueId}-warning` });
  const status = h("p", { class: "copy-status", role: "status" });
  const copy = h("button", { type: "button", class: "button secondary", autofocus: true }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = "Copied to the clipboard.";
    } catch {
      input.select();
      status.textContent = document.execCommand && document.execCommand("copy")
        ? "Copied to the clipboard." : "Copy failed: select the value and copy it yourself.";
    }
  });
  const done = h("button", { type: "button", class: "button primary" }, doneLabel);
  const body = [
    intro,
    h("div", { class: "field" }, h("label", { for: valueId }, label), h("div", { class: "copy-row" }, input, copy)),
    status,
    h("p", { class: "warning", id: `${valueId}-warning` }, warning),
  ];
  const dialog = openDialog({ title, body, actions: [done], className: "save-key",
    onClose: () => {
      input.value = "";
      input.removeAttribute("value");
      if (onClosed) onClosed();
    } });
  done.addEventListener("click", () => dialog.close());
  input.addEventListener("focus", () => input.select());
  return dialog;
}
