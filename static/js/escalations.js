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

  // The live/reconnecting pill of the queue and the hand-off screen. Signed-out (4401) and
  // try-again-later (4503) closes are handled for every socket of the app in static/js/app.js
  // (the notice, polling, retrying); this only says what state the page's own socket is in.
  const FORBIDDEN = 4403; // a viewer: handoffs/consumers.py

  const LABELS = {
    open: "Live",
    closed: "Reconnecting…",
    polling: "Updates every 15 s",
    forbidden: "Live updates need engineer access",
  };
  function signedOut() {
    return Boolean(window.FlowPilot && window.FlowPilot.isSignedOut && window.FlowPilot.isSignedOut());
  }
  function setLive(state) {
    const pill = document.getElementById("queue-live");
    if (!pill || signedOut()) return;
    pill.textContent = LABELS[state] || LABELS.closed;
    pill.className = "pill live-status " + (state === "open" ? "pill-emerald" : "pill-amber");
    pill.dataset.state = state;
  }

  function isPageSocket(element) {
    return Boolean(element && element.closest && element.closest("[data-queue], [data-testid=handoff-screen]"));
  }

  document.body.addEventListener("htmx:wsOpen", (event) => {
    if (isPageSocket(event.target)) setLive("open");
  });
  document.body.addEventListener("htmx:wsClose", (event) => {
    if (!isPageSocket(event.target)) return;
    const detail = event.detail || {};
    if (detail.event && detail.event.code === FORBIDDEN) {
      setLive("forbidden");
      return;
    }
    // Without its socket the queue polls (static/js/app.js): say so instead of "Reconnecting".
    const target = event.target;
    setLive(target.dataset && target.dataset.live === "polling" ? "polling" : "closed");
  });
  document.body.addEventListener("fp:polling", (event) => {
    if (isPageSocket(event.target)) setLive("polling");
  });
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
