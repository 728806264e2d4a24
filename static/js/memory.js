// "Solved before" panel: it refreshes itself after turns that add facts (hx-trigger
// session-changed), but not while the engineer has a past session open in it — that would
// close what they are reading. Closing the past session fetches a fresh panel anyway.
(function () {
  "use strict";
  if (window.FlowPilotMemory) return;
  window.FlowPilotMemory = true;

  function reading(panel) {
    return panel.querySelector("#solved-before-detail [data-testid='past-session']");
  }

  // Folding the panel away leaves the chat log its whole column; the choice holds for the
  // session in this tab, across the panel's own refreshes and page loads.
  function foldKey(panel) {
    const layout = panel.closest("[data-session-id]");
    return "flowpilot:solved-before-folded:" + (layout ? layout.dataset.sessionId : "");
  }

  function applyFold(panel) {
    const button = panel.querySelector("[data-solved-before-fold]");
    const body = panel.querySelector("#solved-before-body");
    if (!button || !body) return;
    const folded = window.sessionStorage.getItem(foldKey(panel)) === "1";
    body.hidden = folded;
    button.hidden = false;
    button.textContent = folded ? "Show" : "Hide";
    button.setAttribute("aria-expanded", String(!folded));
    panel.classList.toggle("is-folded", folded);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-solved-before-fold]");
    if (!button) return;
    const panel = button.closest("#solved-before");
    const folded = button.getAttribute("aria-expanded") === "true";
    if (folded) window.sessionStorage.setItem(foldKey(panel), "1");
    else window.sessionStorage.removeItem(foldKey(panel));
    applyFold(panel);
  });

  // The panel arrives (and refreshes) by an outerHTML swap: a new panel's button is still hidden.
  document.addEventListener("htmx:afterSettle", () => {
    const panel = document.getElementById("solved-before");
    const button = panel && panel.querySelector("[data-solved-before-fold]");
    if (button && button.hidden) applyFold(panel);
  });

  // A refresh about to start, or already on its way, while a past session is open: skipped.
  window.FlowPilot.holdRefresh({
    matches: (elt) => elt.id === "solved-before",
    busy: (elt) => Boolean(reading(elt)),
    onHeld: (elt) => {
      elt.dataset.refreshSkipped = "true";
    },
  });
})();
