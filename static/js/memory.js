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

  // A refresh about to start, or already on its way, while a past session is open: skipped.
  window.FlowPilot.holdRefresh({
    matches: (elt) => elt.id === "solved-before",
    busy: (elt) => Boolean(reading(elt)),
    onHeld: (elt) => {
      elt.dataset.refreshSkipped = "true";
    },
  });
})();
