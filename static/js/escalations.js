// Escalation queue and hand-off screen: what the htmx websocket extension cannot express —
// flashing the tab title when a card arrives, the live/reconnecting indicator, and the
// suggested-step chips filling the composer. The cards themselves arrive as server-rendered
// fragments over the socket.
(function () {
  "use strict";

  const baseTitle = document.title;
  let flashTimer = null;

  function flashTitle(text) {
    if (!document.hidden) return;
    let on = false;
    clearInterval(flashTimer);
    flashTimer = setInterval(() => {
      on = !on;
      document.title = on ? text : baseTitle;
    }, 1000);
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      clearInterval(flashTimer);
      document.title = baseTitle;
    }
  });

  // Close codes of the app's sockets (handoffs/consumers.py, flowpilot/realtime.py).
  const SIGNED_OUT = 4401;
  const FORBIDDEN = 4403;
  const TRY_LATER = 4503;
  let signedOut = false;
  let retries = 0;

  const LABELS = {
    open: "Live",
    closed: "Reconnecting…",
    polling: "Updates every 15 s",
    forbidden: "Live updates need engineer access",
  };
  function setLive(state) {
    const pill = document.getElementById("queue-live");
    if (!pill || signedOut) return;
    pill.textContent = LABELS[state] || LABELS.closed;
    pill.className = "pill live-status " + (state === "open" ? "pill-emerald" : "pill-amber");
    pill.dataset.state = state;
  }

  // The login behind the page ended (signed out elsewhere, revoked, expired): no reconnecting,
  // say so where the live state shows, with the way back.
  function showSignedOut() {
    if (signedOut) return;
    signedOut = true;
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    const link = document.createElement("a");
    link.href = "/login?next=" + next;
    link.className = "pill pill-red live-status";
    link.dataset.state = "signed-out";
    link.dataset.testid = "signed-out";
    link.textContent = "Signed out — sign in again";
    const pill = document.getElementById("queue-live");
    if (pill) {
      link.id = "queue-live";
      pill.replaceWith(link);
    } else {
      const bar = document.createElement("div");
      bar.className = "banner banner-red signed-out-banner";
      bar.setAttribute("role", "alert");
      bar.appendChild(link);
      (document.querySelector("main") || document.body).prepend(bar);
    }
  }

  function isPageSocket(element) {
    return Boolean(element && element.closest && element.closest("[data-queue], [data-testid=handoff-screen]"));
  }

  document.body.addEventListener("htmx:wsOpen", (event) => {
    if (!isPageSocket(event.target)) return;
    retries = 0;
    setLive("open");
  });
  document.body.addEventListener("htmx:wsClose", (event) => {
    const detail = event.detail || {};
    const code = detail.event ? detail.event.code : 0;
    if (code === SIGNED_OUT) {
      // Any of the page's sockets (the bell's too): the extension does not retry this code.
      showSignedOut();
      return;
    }
    if (!isPageSocket(event.target)) return;
    if (code === FORBIDDEN) {
      setLive("forbidden");
      return;
    }
    // Without its socket the queue polls (static/js/app.js): say so instead of "Reconnecting".
    const target = event.target;
    setLive(target.dataset && target.dataset.live === "polling" ? "polling" : "closed");
    if (code === TRY_LATER && detail.socketWrapper) {
      // The live channel is down for a while: the page polls meanwhile (app.js), and the
      // socket is tried again with a growing pause (the extension itself retries only
      // 1006/1011/1012/1013); once it opens, polling stops.
      const delay = Math.min(30000, 1000 * Math.pow(2, retries));
      retries += 1;
      setTimeout(() => detail.socketWrapper.reconnect(), delay);
    }
  });
  document.body.addEventListener("fp:polling", () => setLive("polling"));
  // The heading counts the whole queue (capped at "99+"), not the cards of this page: a new
  // card adds one, a card claimed away (present here before the swap) takes one off.
  function bumpCount(delta) {
    const count = document.getElementById("queue-count");
    if (!count || count.textContent.trim().endsWith("+")) return;
    const value = parseInt(count.textContent, 10) || 0;
    count.textContent = String(Math.max(0, value + delta));
  }
  let removing = 0;
  document.body.addEventListener("htmx:wsBeforeMessage", (event) => {
    const message = (event.detail && event.detail.message) || "";
    const match = typeof message === "string" && message.match(/id="(handoff-card-[^"]+)" hx-swap-oob="delete"/);
    removing = match && document.getElementById(match[1]) ? 1 : 0;
  });
  document.body.addEventListener("htmx:wsAfterMessage", (event) => {
    const message = (event.detail && event.detail.message) || "";
    if (typeof message === "string" && message.indexOf('id="queue-list"') !== -1) {
      bumpCount(1);
      flashTitle("New escalation · FlowPilot");
    } else if (removing) {
      bumpCount(-1);
    }
    removing = 0;
    if (window.FlowPilot && window.FlowPilot.refreshTimes) window.FlowPilot.refreshTimes(document);
  });

  // Chips: a click fills the composer and focuses it.
  document.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-chip]");
    if (!chip) return;
    const composer = document.getElementById("handoff-composer");
    if (!composer) return;
    composer.value = chip.dataset.chip;
    composer.focus();
  });
})();
