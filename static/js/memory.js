// "Solved before" panel: it refreshes itself after turns that add facts (hx-trigger
// session-changed), but not while the engineer has a past session open in it — that would
// close what they are reading. Closing the past session fetches a fresh panel anyway.
(function () {
  "use strict";
  if (window.FlowPilotMemory) return;
  window.FlowPilotMemory = true;

  document.addEventListener("htmx:confirm", (event) => {
    const elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "solved-before") return;
    if (elt.querySelector("#solved-before-detail [data-testid='past-session']")) {
      event.preventDefault();
      elt.dataset.refreshSkipped = "true";
    }
  });
})();
