// Ctrl/Cmd+K command palette: "New session", "Go to escalations", recent sessions.
(function () {
  "use strict";

  const dialog = document.getElementById("palette");
  if (!dialog) return;
  const input = dialog.querySelector("[data-palette-input]");
  const items = Array.from(dialog.querySelectorAll("[data-palette-item]"));
  let active = 0;

  function visible() {
    return items.filter((a) => !a.parentElement.hidden);
  }
  function highlight() {
    const shown = visible();
    items.forEach((a) => a.classList.remove("is-active"));
    if (!shown.length) return;
    active = Math.max(0, Math.min(active, shown.length - 1));
    shown[active].classList.add("is-active");
    shown[active].scrollIntoView({ block: "nearest" });
  }
  function open() {
    input.value = "";
    items.forEach((a) => { a.parentElement.hidden = false; });
    active = 0;
    if (!dialog.open) dialog.showModal();
    highlight();
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
  input.addEventListener("input", () => {
    const query = input.value.trim().toLowerCase();
    items.forEach((a) => { a.parentElement.hidden = query && !a.textContent.toLowerCase().includes(query); });
    active = 0;
    highlight();
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
