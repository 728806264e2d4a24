// Suggested-fix panel: dialogs re-opened with their inline errors, the open preview's edits
// guarded, and the preview revealed when asked for. The panel is a sibling of the task lane,
// so lane swaps never touch it; the open preview refreshes itself (hx-trigger on the popover:
// ~500 ms after a chat turn, a fact or a fix change) unless the engineer is editing it.
(function () {
  "use strict";
  if (window.FlowPilotFixes) return;

  function popover() {
    return document.querySelector("#fix-preview [data-preview-kind]");
  }

  function showDialogs(root) {
    (root || document).querySelectorAll("dialog[data-autoshow]").forEach((dialog) => {
      dialog.removeAttribute("data-autoshow");
      if (dialog.open) dialog.close();
      if (typeof dialog.showModal === "function") dialog.showModal();
      const field = dialog.querySelector("textarea, input:not([type=hidden])");
      if (field) field.focus();
    });
  }

  // The popover's own automatic refresh waits while its text has unsaved edits: it offers
  // "Load the new version" instead.
  window.FlowPilot.holdRefresh({
    matches: (elt) => elt.matches("#fix-preview [data-preview-kind]"),
    busy: (elt) => {
      const text = elt.querySelector("[data-preview-text]");
      return Boolean(text && text.dataset.dirty === "true");
    },
    onHeld: (elt) => {
      const stale = elt.querySelector("[data-preview-stale]");
      if (stale) stale.hidden = false;
    },
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("[data-preview-text]")) {
      event.target.dataset.dirty = "true";
    }
  });

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-preview-close]");
    if (close && close.closest("#fix-preview")) {
      event.preventDefault();
      document.getElementById("fix-preview").innerHTML = "";
      return;
    }
    const again = event.target.closest("[data-preview-reload]");
    if (again && window.htmx) {
      const open = again.closest("[data-preview-kind]");
      window.htmx.ajax("POST", open.dataset.previewUrl, { source: open, target: "#fix-preview", swap: "innerHTML" });
    }
    // A link in the overflow menu closes the menu.
    const item = event.target.closest("details.menu [data-modal-open]");
    if (item) item.closest("details").open = false;
  });

  // A preview the engineer asked for scrolls into view; an automatic refresh never moves the page.
  let reveal = false;
  document.addEventListener("submit", (event) => {
    if (event.target.closest && event.target.closest("#preview-controls")) reveal = true;
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    showDialogs(event.target);
    const open = popover();
    if (reveal && open) {
      reveal = false;
      open.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });
  showDialogs(document);

  window.FlowPilotFixes = { loaded: true };
})();
