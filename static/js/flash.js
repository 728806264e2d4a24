// Turns Django messages rendered into #flash-messages into toasts once the shell is ready.
window.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#flash-messages span").forEach((el) => {
    window.FlowPilot.toast(el.textContent, { tone: el.dataset.tone });
  });
});
