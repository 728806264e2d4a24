// Ctrl/Cmd+K command palette of every app page: the commands, then the user's sessions (ticket
// number and age beside each), fetched by htmx the first time it opens; "No matches" when the
// query leaves nothing.
(function () {
  "use strict";

  const dialog = document.getElementById("palette");
  if (!dialog) return;
  const input = dialog.querySelector("[data-palette-input]");
  const sessions = dialog.querySelector("[data-palette-sessions]");
  const empty = dialog.querySelector("[data-palette-empty]");
  let active = 0;

  function items() {
    return Array.from(dialog.querySelectorAll("[data-palette-item]"));
  }
  function visible() {
    return items().filter((a) => !a.parentElement.hidden);
  }
  function highlight() {
    const shown = visible();
    items().forEach((a) => a.classList.remove("is-active"));
    empty.hidden = shown.length > 0;
    if (!shown.length) return;
    active = Math.max(0, Math.min(active, shown.length - 1));
    shown[active].classList.add("is-active");
    shown[active].scrollIntoView({ block: "nearest" });
  }
  function filter() {
    const query = input.value.trim().toLowerCase().replace(/^#/, "");
    items().forEach((a) => {
      a.parentElement.hidden = Boolean(query) && !a.textContent.toLowerCase().includes(query);
    });
    highlight();
  }
  function open() {
    input.value = "";
    active = 0;
    if (window.htmx && sessions) window.htmx.trigger(sessions, "palette-open");
    if (!dialog.open) dialog.showModal();
    filter();
    input.focus();
  }

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      dialog.open ? dialog.close() : open();
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-palette-open]")) open();
    else if (event.target === dialog) dialog.close();
  });
  // The sessions arrive after the palette opened: apply what was typed meanwhile.
  if (sessions) sessions.addEventListener("htmx:afterSwap", filter);
  input.addEventListener("input", () => {
    active = 0;
    filter();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { active += 1; highlight(); event.preventDefault(); }
    else if (event.key === "ArrowUp") { active -= 1; highlight(); event.preventDefault(); }
    else if (event.key === "Enter") {
      const target = visible()[active];
      if (target) { event.preventDefault(); window.location.href = target.href; }
    }
  });
})();
