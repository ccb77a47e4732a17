// Building DOM nodes without innerHTML: every value reaches the page as text, never as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" || key === "checked") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

let counter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "kw") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled control: <div class="field"><label for=id>…</label><input id=id>…<p class="field-error"></div>. */
export function field(labelText, control, hint) {
  const id = control.id || uid("field");
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
  const describedBy = [`${id}-error`];
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: `${id}-hint` }, hint);
    describedBy.push(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", describedBy.join(" "));
  return h("div", { class: "field", dataset: { field: control.name || "" } },
    h("label", { for: id }, labelText), control, hintEl, error);
}

/** Show a message in a region's error slot (or clear it with an empty message). */
export function showError(container, message) {
  const slot = container.querySelector(":scope > .form-error, :scope .form-error");
  if (!slot) return;
  slot.textContent = message || "";
  slot.hidden = !message;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const exact = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "long" });
const dateOnly = new Intl.DateTimeFormat("en", { dateStyle: "medium" });

export function relativeTime(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
    ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

/** <time> with relative text and the exact timestamp on hover; "Never" when null. */
export function timeCell(iso, { never = "Never", relativeText = true } = {}) {
  if (!iso) return h("span", { class: "muted" }, never);
  const date = new Date(iso);
  return h("time", { datetime: date.toISOString(), title: exact.format(date) },
    relativeText ? relativeTime(iso) : dateOnly.format(date));
}

export function exactTime(iso, never = "Never") {
  return iso ? exact.format(new Date(iso)) : never;
}

export const PERMISSIONS = [
  ["VIEW_PROJECTS", "View projects", "View projects created within your workspace."],
  ["MANAGE_PROJECTS", "Manage projects", "Manage, edit, and delete projects in your workspace."],
  ["VIEW_API_KEYS", "View API keys", "View API keys generated in your workspace."],
  ["DELETE_API_KEYS", "Delete API keys", "Delete API keys in your workspace."],
  ["CREATE_API_KEY", "Create API key", "Create API keys in your workspace."],
];

export function permissionLabel(value) {
  const found = PERMISSIONS.find(([key]) => key === value);
  return found ? found[1] : value;
}
