// The ⋯ options menu: a button that opens a list of actions (menu button pattern, keyboard included).

import { h } from "./dom.js";

let openMenu = null;

function closeOpenMenu(returnFocus = false) {
  if (!openMenu) return;
  const { button, list } = openMenu;
  list.hidden = true;
  button.setAttribute("aria-expanded", "false");
  openMenu = null;
  if (returnFocus) button.focus();
}

document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.wrapper.contains(event.target)) closeOpenMenu();
});

/** items: [{ label, onSelect, danger }] */
export function optionsMenu(label, items) {
  const listId = `menu-${Math.random().toString(36).slice(2)}`;
  const button = h("button", { type: "button", class: "icon-button options", "aria-haspopup": "menu",
    "aria-expanded": "false", "aria-controls": listId, "aria-label": label }, "⋯");
  const entries = items.map((item) => h("button", { type: "button", role: "menuitem", tabindex: "-1",
    class: item.danger ? "danger-text" : "" }, item.label));
  const list = h("div", { class: "menu", role: "menu", id: listId, hidden: true, "aria-label": label }, entries);
  const wrapper = h("div", { class: "menu-wrapper" }, button, list);

  function open() {
    closeOpenMenu();
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    openMenu = { button, list, wrapper };
    entries[0].focus();
  }

  button.addEventListener("click", () => (list.hidden ? open() : closeOpenMenu()));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      open();
    }
  });
  entries.forEach((entry, index) => {
    entry.addEventListener("click", () => {
      closeOpenMenu();
      items[index].onSelect();
    });
    entry.addEventListener("keydown", (event) => {
      const move = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (move) {
        event.preventDefault();
        entries[(index + move + entries.length) % entries.length].focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        closeOpenMenu(true);
      } else if (event.key === "Tab") {
        closeOpenMenu();
      }
    });
  });
  return wrapper;
}
