// Session-expiry warning on every app page. Every 30 s it reads the session's deadlines (a
// background request: reading them is not activity) and, 5 minutes before the nearer one, shows
// a notice: amber with "Stay signed in" for idle expiry, cyan with "Sign in now" for the absolute
// limit, which nothing can extend. A dismissed warning stays dismissed for that deadline (kept
// in memory and, for other pages, in the server session; no browser storage).
(function () {
  "use strict";

  const POLL_MS = 30000;
  const root = document.getElementById("session-expiry");
  if (!root || typeof fetch !== "function") return;

  let dismissedKey = null;
  let current = null; // last status from the server
  let receivedAt = 0; // performance.now() when it arrived
  let showTimer = null;
  let tickTimer = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function remainingSeconds() {
    if (!current) return Infinity;
    return current.remaining_seconds - (performance.now() - receivedAt) / 1000;
  }

  function formatLeft(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s >= 90) return Math.round(s / 60) + " minutes";
    if (s >= 60) return "1 minute";
    return s + " seconds";
  }

  function hide() {
    root.hidden = true;
    root.replaceChildren();
    if (tickTimer) clearInterval(tickTimer);
    tickTimer = null;
  }

  function build(status) {
    const idle = status.kind === "idle";
    const el = document.createElement("div");
    el.className = "toast expiry-toast toast-" + (idle ? "amber" : "cyan");
    el.setAttribute("role", "alert");
    el.dataset.kind = status.kind;
    el.id = "expiry-toast";
    const body = document.createElement("div");
    body.className = "toast-body";
    const title = document.createElement("div");
    title.className = "toast-title";
    title.textContent = idle ? "You will be signed out soon" : "Your session is ending";
    const text = document.createElement("div");
    text.className = "expiry-text";
    const actions = document.createElement("div");
    actions.className = "expiry-actions";
    if (idle) {
      const stay = document.createElement("button");
      stay.type = "button";
      stay.className = "btn btn-sm btn-amber";
      stay.id = "expiry-stay";
      stay.textContent = "Stay signed in";
      stay.addEventListener("click", extend);
      actions.appendChild(stay);
    } else {
      // Only a new sign-in restarts the absolute limit: sign out, then the login page.
      const form = document.createElement("form");
      form.method = "post";
      form.action = root.dataset.logoutUrl;
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrfToken();
      const link = document.createElement("button");
      link.type = "submit";
      link.className = "btn btn-sm btn-link";
      link.id = "expiry-sign-in";
      link.textContent = "Sign in now";
      form.append(token, link);
      actions.appendChild(form);
    }
    body.append(title, text, actions);
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.id = "expiry-dismiss";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", dismiss);
    el.append(body, close);
    return el;
  }

  function updateText() {
    const text = root.querySelector(".expiry-text");
    if (!text || !current) return;
    const left = remainingSeconds();
    if (left <= 0) {
      window.location.assign("/login?reason=session_expired");
      return;
    }
    text.textContent = current.kind === "idle"
      ? "You have been inactive for a while. Your session ends in " + formatLeft(left) + "."
      : "Sessions last at most a fixed time from sign-in. Yours ends in " + formatLeft(left) +
        "; sign in again to keep working.";
  }

  function show() {
    if (!current || current.deadline_key === dismissedKey) return;
    const existing = root.querySelector("#expiry-toast");
    if (!existing || existing.dataset.kind !== current.kind) {
      root.replaceChildren(build(current));
    }
    root.hidden = false;
    updateText();
    if (!tickTimer) tickTimer = setInterval(updateText, 1000);
  }

  function render(status) {
    current = status;
    receivedAt = performance.now();
    if (showTimer) clearTimeout(showTimer);
    showTimer = null;
    if (status.dismissed) dismissedKey = status.deadline_key;
    if (status.deadline_key === dismissedKey) {
      hide();
      return;
    }
    const untilWarning = status.remaining_seconds - status.warning_seconds;
    if (untilWarning <= 0) {
      show();
      return;
    }
    hide();
    if (untilWarning * 1000 < POLL_MS) showTimer = setTimeout(show, untilWarning * 1000);
  }

  async function request(url, method, background, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (background) headers["X-FlowPilot-Background"] = "1";
    const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
    if (response.status === 401) {
      const data = await response.json().catch(() => ({}));
      window.location.assign(data.redirect || "/login?reason=session_expired");
      return null;
    }
    return response;
  }

  async function check() {
    try {
      const response = await request(root.dataset.statusUrl, "GET", true);
      if (response && response.ok) render(await response.json());
    } catch (error) {
      // Offline for a moment: the next poll tries again.
    }
  }

  async function extend() {
    try {
      const response = await request(root.dataset.extendUrl, "POST", false);
      if (response && response.ok) {
        render(await response.json());
        if (window.FlowPilot && window.FlowPilot.toast) {
          window.FlowPilot.toast("You are still signed in.", { tone: "emerald" });
        }
      }
    } catch (error) {
      // Leave the notice up; the user can try again.
    }
  }

  function dismiss() {
    if (!current) return;
    dismissedKey = current.deadline_key;
    hide();
    const body = new URLSearchParams({ deadline_key: dismissedKey });
    request(root.dataset.dismissUrl, "POST", true, body).catch(() => {});
  }

  check();
  setInterval(check, POLL_MS);
  // A socket closed with 4401: the sign-in behind this page ended elsewhere (the device was
  // signed out, the person deactivated). Ask now rather than at the next poll, so the page
  // lands on the login page with the reason at once.
  document.body.addEventListener("htmx:wsClose", (event) => {
    const closed = event.detail && event.detail.event;
    if (closed && closed.code === 4401) check();
  });
})();
