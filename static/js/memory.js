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

  // A refresh about to start while a past session is open: skipped.
  document.addEventListener("htmx:confirm", (event) => {
    const elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "solved-before") return;
    if (reading(elt)) {
      event.preventDefault();
      elt.dataset.refreshSkipped = "true";
    }
  });

  // A refresh already on its way when the engineer opened a past session: not swapped in.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "solved-before" || !reading(elt)) return;
    const target = event.detail.target;
    if (target && target.id === "solved-before") {
      event.detail.shouldSwap = false;
      elt.dataset.refreshSkipped = "true";
    }
  });
})();
