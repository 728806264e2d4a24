// Session security page: preset radios drive the Custom inputs; "sign everyone out" finishes
// with a toast, a short pause and the caller's own sign-out.
(function () {
  "use strict";

  const SIGN_OUT_PAUSE_MS = 1500;

  function syncCustomFields(form) {
    const checked = form.querySelector("input[name=preset]:checked");
    const custom = checked && checked.value === "custom";
    form.querySelectorAll("#custom-fields input").forEach((input) => {
      input.disabled = !custom;
      if (!custom && checked) {
        const preset = input.name === "idle_minutes" ? checked.dataset.idle : checked.dataset.absolute;
        if (preset) input.value = preset;
      }
    });
    if (custom) {
      const first = form.querySelector("#custom-fields input");
      if (first && document.activeElement === checked) first.focus();
    }
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("#policy-form input[name=preset]")) {
      syncCustomFields(event.target.form);
    }
  });

  // HX-Trigger {"signedOutAll": {"count": n, "logout": "/logout"}} after scope=all: the server
  // already ended this session too; sign out properly so the browser lands on /login.
  document.body.addEventListener("signedOutAll", (event) => {
    const detail = event.detail || {};
    setTimeout(() => {
      const button = document.querySelector("[data-testid=sign-out]");
      const form = button ? button.closest("form") : null;
      if (form) {
        form.submit();
      } else {
        window.location.assign("/login");
      }
    }, SIGN_OUT_PAUSE_MS);
  });
})();
