// FlowPilot shell behaviour that HTMX cannot express: toast timing, modal wiring, copy buttons,
// relative times.
(function () {
  "use strict";

  const TOAST_MS = 5000;

  function toast(message, options) {
    const opts = options || {};
    const region = document.getElementById("toasts");
    if (!region) return null;
    const el = document.createElement("div");
    el.className = "toast toast-" + (opts.tone || "neutral");
    el.setAttribute("role", opts.tone === "red" ? "alert" : "status");
    if (opts.id) el.dataset.toastId = opts.id;
    const body = document.createElement("div");
    body.className = "toast-body";
    if (opts.title) {
      const title = document.createElement("div");
      title.className = "toast-title";
      title.textContent = opts.title;
      body.appendChild(title);
    }
    const text = document.createElement("div");
    text.textContent = message;
    body.appendChild(text);
    el.appendChild(body);
    const close = document.createElement("button");
    close.className = "toast-close";
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => el.remove());
    el.appendChild(close);
    region.appendChild(el);
    if (!opts.sticky) setTimeout(() => el.remove(), opts.duration || TOAST_MS);
    return el;
  }

  // Servers ask for a toast with `HX-Trigger: {"toast": {"message": "...", "tone": "emerald"}}`.
  document.body.addEventListener("toast", (event) => {
    const detail = event.detail || {};
    toast(detail.message || detail.value || "", detail);
  });

  // Modals: <button data-modal-open="id">, <button data-modal-close> inside the <dialog>.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-modal-open]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.modalOpen);
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
      }
      return;
    }
    const closer = event.target.closest("[data-modal-close]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  // The one clipboard handler, for every Copy button on every page:
  // <button data-copy-target="id" [data-copied="Command copied."]> copies the element's text.
  // (scripts.js holds a Copy back in the capture phase while the script is not ready.)
  function copyText(value) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(value);
    return new Promise((resolve, reject) => {
      const area = document.createElement("textarea");
      area.value = value;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    event.preventDefault();
    const source = document.getElementById(button.dataset.copyTarget);
    copyText(source ? source.textContent : "").then(
      () => toast(button.dataset.copied || "Script copied.", { tone: "emerald", duration: 2000 }),
      () => toast("Copy failed: select the text and copy it.", { tone: "red" })
    );
  });

  // Relative times: <time datetime="ISO" data-relative>. The exact time stays in the title.
  const UNITS = [
    ["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
    ["hour", 3600], ["minute", 60],
  ];
  function relative(iso) {
    const then = new Date(iso).getTime();
    if (Number.isNaN(then)) return "";
    const seconds = Math.round((Date.now() - then) / 1000);
    const abs = Math.abs(seconds);
    if (abs < 45) return seconds >= 0 ? "just now" : "in a moment";
    for (const [unit, size] of UNITS) {
      if (abs >= size) {
        const n = Math.round(abs / size);
        const label = n + " " + unit + (n === 1 ? "" : "s");
        return seconds >= 0 ? label + " ago" : "in " + label;
      }
    }
    return "just now";
  }
  function refreshTimes(root) {
    (root || document).querySelectorAll("time[data-relative]").forEach((el) => {
      const text = relative(el.getAttribute("datetime"));
      if (text) el.textContent = text;
      if (!el.title) el.title = new Date(el.getAttribute("datetime")).toLocaleString();
    });
  }
  document.addEventListener("htmx:afterSettle", (event) => refreshTimes(event.target));
  setInterval(() => refreshTimes(document), 30000);
  refreshTimes(document);

  window.FlowPilot = Object.assign(window.FlowPilot || {}, { toast, relative, refreshTimes });
})();
