// Suggested-fix panel: copy buttons, dialogs re-opened with their inline errors, and the open
// preview kept current (re-fetched ~500 ms after a chat turn, a fact or a fix change).
(function () {
  "use strict";
  if (window.FlowPilotFixes) return; // the panel's <script> comes back with every panel swap
  const REFRESH_DELAY_MS = 500;
  let timer = null;

  function toast(message, tone) {
    if (window.FlowPilot && window.FlowPilot.toast) window.FlowPilot.toast(message, { tone: tone });
  }

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

  function reload(open) {
    const target = document.getElementById("fix-preview");
    if (!open || !target || !window.htmx) return;
    window.htmx.ajax("POST", open.dataset.previewUrl, {
      source: open,
      target: "#fix-preview",
      swap: "innerHTML",
    });
  }

  // A change the preview reads happened: refresh it, unless the engineer is editing it.
  function scheduleRefresh() {
    if (!popover()) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const open = popover();
      if (!open) return;
      const text = open.querySelector("[data-preview-text]");
      if (text && text.dataset.dirty === "true") {
        const stale = open.querySelector("[data-preview-stale]");
        if (stale) stale.hidden = false;
        return;
      }
      reload(open);
    }, REFRESH_DELAY_MS);
  }

  document.body.addEventListener("session-changed", scheduleRefresh);
  document.body.addEventListener("fix-changed", scheduleRefresh);

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("[data-preview-text]")) {
      event.target.dataset.dirty = "true";
    }
  });

  document.addEventListener("click", (event) => {
    const copy = event.target.closest("[data-copy-target]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copyTarget);
      const text = source ? source.textContent : "";
      const done = () => toast("Script copied.", "emerald");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, () => toast("Copy failed: select the script and copy it.", "red"));
      } else {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); done(); } catch (e) { toast("Copy failed.", "red"); }
        area.remove();
      }
      return;
    }
    const close = event.target.closest("[data-preview-close]");
    if (close && close.closest("#fix-preview")) {
      event.preventDefault();
      saved = null;
      document.getElementById("fix-preview").innerHTML = "";
      return;
    }
    const again = event.target.closest("[data-preview-reload]");
    if (again) reload(again.closest("[data-preview-kind]"));
    // A link in the overflow menu closes the menu.
    const item = event.target.closest("details.menu [data-modal-open]");
    if (item) item.closest("details").open = false;
  });

  // The session page re-renders the whole task lane (and this panel in it) after each chat turn
  // or fact change. An open preview survives that: the element, with any edits, is put back
  // into the new panel, then refreshed.
  let saved = null;
  function keepPreview() {
    const current = popover();
    if (current) {
      saved = current;
      return;
    }
    const target = document.getElementById("fix-preview");
    if (!saved || !target || !document.getElementById("preview-controls")) return;
    target.replaceChildren(saved);
    if (window.htmx) window.htmx.process(saved);
    scheduleRefresh();
  }
  new MutationObserver(keepPreview).observe(document.body, { childList: true, subtree: true });
  document.addEventListener("htmx:afterRequest", (event) => {
    // A posted note or package closes the preview for good. A refused post answers the popover
    // again (retargeted, with the engineer's text and the error), which stays open. The form is
    // detached by then, so htmx re-fires this on an ancestor: look at the request's element.
    const detail = event.detail || {};
    const source = detail.requestConfig && detail.requestConfig.elt;
    if (!source || !source.closest || !source.closest(".preview-form")) return;
    if (detail.successful && !(detail.xhr && detail.xhr.getResponseHeader("HX-Retarget"))) {
      saved = null;
    }
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

  window.FlowPilotFixes = { scheduleRefresh: scheduleRefresh, refreshDelayMs: REFRESH_DELAY_MS };
})();
