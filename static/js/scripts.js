// Script blocks: Copy is held back while required values are missing or a high-severity finding
// is not acknowledged; the copy itself is the shared [data-copy-target] handler.
(function () {
  "use strict";
  if (window.FlowPilotScripts) return;

  function toast(message, tone) {
    if (window.FlowPilot && window.FlowPilot.toast) window.FlowPilot.toast(message, { tone: tone });
  }

  // Capture phase: runs before the clipboard handler and stops it while Copy is refused.
  document.addEventListener(
    "click",
    (event) => {
      const button = event.target.closest && event.target.closest("[data-copy-target][data-copy-blocked]");
      if (!button) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      toast(button.dataset.copyBlocked, "amber");
    },
    true
  );

  document.addEventListener("change", (event) => {
    const box = event.target.closest && event.target.closest("[data-ack-for]");
    if (!box) return;
    const button = document.querySelector('[data-copy-target="' + box.dataset.ackFor + '"][data-needs-ack]');
    if (!button) return;
    if (box.checked) {
      button.dataset.savedBlock = button.dataset.copyBlocked || "";
      delete button.dataset.copyBlocked;
    } else {
      button.dataset.copyBlocked = button.dataset.savedBlock || "Tick “I understand” first.";
    }
  });

  window.FlowPilotScripts = {};
})();
