// When a credential stops working: the expiry field of the create dialogs (presets, a custom date, and
// "No expiry" unless the workspace's maxTokenLifetimeDays forbids it), the grace field of the Rotate
// dialogs, and the Expires cell of the tables. The server checks every value again.

import { field, h, timeCell } from "./dom.js";

const DAY = 86400000;
const MINUTE = 60000;
const PRESETS = [7, 30, 90];
const GRACE_DAYS = 30;

/** `days` ahead of now; at the limit a minute less, so the server (a moment later) still accepts it. */
function daysAhead(days, limitDays) {
  return new Date(Date.now() + days * DAY - (days === limitDays ? MINUTE : 0)).toISOString();
}

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}

/**
 * The Expiration field. `maxDays`: the workspace's maxTokenLifetimeDays (null: no limit, and "No expiry"
 * is offered and chosen). `value()` is the ISO time to send, or null for no expiry.
 */
export function expiryField(maxDays, what = "token") {
  const limited = maxDays !== null && maxDays !== undefined;
  const days = PRESETS.filter((d) => !limited || d <= maxDays);
  if (limited && !days.includes(maxDays)) days.push(maxDays);
  const select = h("select", { name: "expiresAt" },
    limited ? null : h("option", { value: "", selected: true }, "No expiry"),
    days.map((d) => h("option", { value: String(d), selected: limited && d === Math.min(30, maxDays) },
      `${d} days`)),
    h("option", { value: "custom" }, "Custom date"));
  const tomorrow = new Date(Date.now() + DAY);
  const date = h("input", { type: "date", name: "expiresAtDate", "aria-label": "Expiry date", hidden: true,
    min: isoDate(tomorrow), max: limited ? isoDate(new Date(Date.now() + maxDays * DAY)) : null,
    value: isoDate(new Date(Date.now() + Math.min(30, limited ? maxDays : 30) * DAY)) });
  select.addEventListener("change", () => { date.hidden = select.value !== "custom"; });
  const hint = limited
    ? `This workspace requires every ${what} to expire within ${maxDays} days.`
    : `The ${what} stops working at this time. With no expiry it works until it is ${what === "token" ? "revoked" : "deleted"}.`;
  const element = field("Expiration", select, hint);
  element.insertBefore(date, element.querySelector(".field-error"));
  return {
    element,
    value() {
      if (select.value === "") return null;
      if (select.value !== "custom") return daysAhead(Number(select.value), limited ? maxDays : null);
      if (!date.value) return null;
      const endOfDay = new Date(`${date.value}T23:59:59`);
      const limit = limited ? Date.now() + maxDays * DAY - MINUTE : Infinity;
      return new Date(Math.min(endOfDay.getTime(), limit)).toISOString();
    },
  };
}

/**
 * When the old credential of a rotation stops working: not until it is revoked or deleted (the default, as
 * the API's), now, or after a grace period of at most 30 days. `value()`: the ISO time, or null to keep it.
 */
export function graceField(name, what = "token") {
  const ending = what === "token" ? "revoke" : "delete";
  const select = h("select", { name },
    h("option", { value: "", selected: true }, `Not until I ${ending} it`),
    h("option", { value: "now" }, "Now"),
    h("option", { value: "1h" }, "In 1 hour"),
    h("option", { value: "1" }, "In 1 day"),
    h("option", { value: "7" }, "In 7 days"),
    h("option", { value: String(GRACE_DAYS) }, `In ${GRACE_DAYS} days`));
  const element = field(`The current ${what} stops working`, select,
    `The current ${what} keeps working until you ${ending} it, unless you choose a time here: give your ` +
    "systems that long to switch to the new value.");
  return {
    element,
    value() {
      if (select.value === "") return null;
      if (select.value === "now") return new Date().toISOString();
      if (select.value === "1h") return new Date(Date.now() + 60 * MINUTE).toISOString();
      return daysAhead(Number(select.value), GRACE_DAYS);
    },
  };
}

/** The Expires cell: "Never", or the date (the exact time on hover). */
export function expiryCell(iso) {
  return timeCell(iso, { never: "Never", relativeText: false });
}
