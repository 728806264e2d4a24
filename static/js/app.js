// FlowPilot shell behaviour that HTMX cannot express: toast timing, modal wiring, copy buttons,
// relative times.
(function () {
  "use strict";

  const TOAST_MS = 5000;
  const MAX_TOASTS = 3;

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
    // Newest first, at most three: the oldest gives way.
    region.prepend(el);
    while (region.children.length > MAX_TOASTS) region.lastElementChild.remove();
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

  // Every socket of the app (the bell on every page, which the dashboard panels and the session
  // page follow, the escalation queue and the hand-off screen) is closed by the server with one of
  // two application codes, handled here once for all of them:
  //  - 4401: the sign-in behind the page ended (signed out elsewhere, revoked, expired). Nothing
  //    reconnects or polls any more, and the page says "Signed out — sign in again" with the way
  //    back (in place of the page's live-state pill [data-live-status], else beside the bell).
  //  - 4503 "try again later": the channel layer is down (flowpilot/realtime.py). The region
  //    polls meanwhile and the socket is tried again with a growing pause (the extension itself
  //    retries only 1006/1011/1012/1013); once it opens, polling stops.
  // A socket that keeps dropping otherwise is reconnected by the extension; from the second drop
  // in a row the region polls meanwhile. Polling: every 15 s fetch data-poll-url and replace the
  // regions listed in data-poll-select (for the socket element itself: its contents), as
  // background traffic (no session activity).
  const CLOSE_SIGNED_OUT = 4401;
  const CLOSE_TRY_AGAIN_LATER = 4503;
  const POLL_MS = window.FlowPilotPollMs || 15000;
  const RETRY_MAX_MS = 30000;
  const pollers = new Map();
  const drops = new WeakMap();
  const retries = new WeakMap();
  const retryTimers = new Map();
  let signedOut = false;

  async function refreshRegions(el) {
    if (signedOut) return;
    let html;
    try {
      const response = await fetch(el.dataset.pollUrl, {
        credentials: "same-origin",
        headers: { "X-FlowPilot-Background": "1" },
      });
      if (!response.ok) return;
      html = await response.text();
    } catch (error) {
      return; // offline for a moment: the next poll tries again
    }
    const fresh = new DOMParser().parseFromString(html, "text/html");
    (el.dataset.pollSelect || "").split(",").map((s) => s.trim()).filter(Boolean).forEach((selector) => {
      const next = fresh.querySelector(selector);
      const current = document.querySelector(selector);
      if (!next || !current) return;
      if (current === el) {
        el.innerHTML = next.innerHTML;
        // Only the new contents: processing the socket element again would open a socket.
        if (window.htmx) Array.from(el.children).forEach((child) => window.htmx.process(child));
      } else {
        const adopted = document.importNode(next, true);
        current.replaceWith(adopted);
        if (window.htmx) window.htmx.process(adopted);
      }
    });
    refreshTimes(document);
    el.dispatchEvent(new CustomEvent("fp:polled", { bubbles: true }));
  }
  function startPolling(el) {
    if (signedOut || !el || !el.dataset.pollUrl || pollers.has(el)) return;
    el.dataset.live = "polling";
    pollers.set(el, setInterval(() => refreshRegions(el), POLL_MS));
    el.dispatchEvent(new CustomEvent("fp:polling", { bubbles: true, detail: { every: POLL_MS } }));
    refreshRegions(el); // catch up on what the socket did not deliver
  }
  function stopPolling(el) {
    if (!pollers.has(el)) return;
    clearInterval(pollers.get(el));
    pollers.delete(el);
  }
  function retryLater(el, socketWrapper) {
    if (signedOut || !socketWrapper || retryTimers.has(el)) return;
    const attempt = retries.get(el) || 0;
    retries.set(el, attempt + 1);
    const delay = Math.min(RETRY_MAX_MS, 1000 * Math.pow(2, attempt));
    retryTimers.set(el, setTimeout(() => {
      retryTimers.delete(el);
      // A region that left the page (swapped away) is not reconnected.
      if (!signedOut && document.body.contains(el)) socketWrapper.reconnect();
    }, delay));
  }

  // The notice, built once, where the live state shows: the page's own live pill
  // ([data-live-status]) if it has one, otherwise beside the bell in the top bar.
  function showSignedOut() {
    if (document.querySelector("[data-testid=signed-out]")) return;
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    const link = document.createElement("a");
    link.href = "/login?next=" + next;
    link.className = "pill pill-red live-status signed-out";
    link.dataset.state = "signed-out";
    link.dataset.testid = "signed-out";
    link.setAttribute("role", "alert");
    link.textContent = "Signed out — sign in again";
    const pill = document.querySelector("[data-live-status]");
    const bell = document.querySelector(".topbar-actions .bell-wrap");
    if (pill) {
      link.id = pill.id;
      pill.replaceWith(link);
    } else if (bell) {
      bell.before(link);
    } else {
      const bar = document.createElement("div");
      bar.className = "banner banner-red signed-out-banner";
      bar.appendChild(link);
      (document.querySelector("main") || document.body).prepend(bar);
    }
  }
  function signOut() {
    signedOut = true;
    document.body.dataset.signedOut = "1";
    pollers.forEach((timer) => clearInterval(timer));
    pollers.clear();
    retryTimers.forEach((timer) => clearTimeout(timer));
    retryTimers.clear();
    document.querySelectorAll("[ws-connect]").forEach((el) => { el.dataset.live = "signed-out"; });
    showSignedOut();
  }

  document.body.addEventListener("htmx:wsOpen", (event) => {
    const el = event.target.closest && event.target.closest("[ws-connect]");
    if (!el) return;
    drops.set(el, 0);
    retries.set(el, 0);
    stopPolling(el);
    el.dataset.live = "open";
  });
  document.body.addEventListener("htmx:wsClose", (event) => {
    const el = event.target.closest && event.target.closest("[ws-connect]");
    if (!el) return;
    const detail = event.detail || {};
    const code = detail.event ? detail.event.code : 0;
    if (code === CLOSE_SIGNED_OUT) {
      signOut(); // the extension does not retry this code; nothing else does either
      return;
    }
    if (signedOut) return;
    const dropped = (drops.get(el) || 0) + 1;
    drops.set(el, dropped);
    if (code === CLOSE_TRY_AGAIN_LATER) {
      startPolling(el);
      retryLater(el, detail.socketWrapper);
    } else if (dropped >= 2) {
      startPolling(el);
    }
  });

  // A region that refreshes itself (hx-trigger) can hold its refresh while the person is busy
  // in it: ``matches(elt)`` picks the refreshing element, ``busy(elt)`` says to hold, and
  // ``onHeld(elt)`` tells them. Held before the request, and — for a refresh already on its
  // way when they got busy — before the swap.
  function holdRefresh({ matches, busy, onHeld }) {
    function held(event) {
      const elt = event.detail && event.detail.elt;
      if (!elt || !elt.matches || !matches(elt) || !busy(elt)) return false;
      if (onHeld) onHeld(elt);
      return true;
    }
    document.addEventListener("htmx:confirm", (event) => {
      if (held(event)) event.preventDefault();
    });
    document.addEventListener("htmx:beforeSwap", (event) => {
      if (held(event)) event.detail.shouldSwap = false;
    });
  }

  window.FlowPilot = Object.assign(window.FlowPilot || {}, {
    toast,
    relative,
    refreshTimes,
    holdRefresh,
    isSignedOut: () => signedOut,
  });
})();
