// Session page: streaming replies (SSE), composer keys, copy buttons, the collapsible task lane.
(function () {
  "use strict";

  const toast = (msg, opts) => window.FlowPilot && window.FlowPilot.toast(msg, opts || {});
  const composer = document.getElementById("composer");
  const input = document.getElementById("composer-input");
  const log = document.getElementById("chat-log");
  const lane = document.getElementById("task-lane");

  function sessionChanged() {
    document.body.dispatchEvent(new CustomEvent("session-changed", { bubbles: true }));
  }

  function setBusy(busy) {
    if (!composer) return;
    composer.classList.toggle("is-busy", busy);
    const button = composer.querySelector("button[type=submit]");
    if (button) button.disabled = busy;
  }

  function scrollToEnd() {
    if (log) log.scrollTop = log.scrollHeight;
  }

  function fromHTML(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  // ---- Streaming --------------------------------------------------------------------------
  function startStream(el) {
    if (el.dataset.started === "1") return;
    el.dataset.started = "1";
    const text = el.querySelector("[data-stream-text]");
    const error = el.querySelector("[data-stream-error]");
    const typing = el.querySelector("[data-typing]");
    text.textContent = "";
    error.hidden = true;
    if (typing) typing.hidden = false;
    setBusy(true);
    let finished = false;
    const source = new EventSource(el.dataset.streamUrl);

    function fail(message) {
      finished = true;
      source.close();
      el.dataset.started = "0";
      if (typing) typing.hidden = true;
      el.querySelector("[data-stream-error-text]").textContent = message;
      error.hidden = false;
      setBusy(false);
    }

    source.addEventListener("token", (event) => {
      const data = JSON.parse(event.data);
      // Text only: the final message is re-rendered (sanitised) by the server.
      text.textContent += data.text;
      scrollToEnd();
    });
    source.addEventListener("done", (event) => {
      finished = true;
      source.close();
      const data = JSON.parse(event.data);
      const fragment = fromHTML(data.html);
      const existing = document.getElementById("step-" + data.step_id);
      if (existing) el.remove(); else el.replaceWith(fragment);
      if (lane && data.lane_html) {
        lane.innerHTML = data.lane_html;
        if (window.htmx) window.htmx.process(lane);
        openLaneIfFacts();
      }
      if (window.FlowPilot && window.FlowPilot.refreshTimes) window.FlowPilot.refreshTimes(log);
      if (data.facts_added) toast(data.facts_added === 1 ? "1 fact added to What we know." : data.facts_added + " facts added to What we know.", { tone: "emerald" });
      setBusy(false);
      scrollToEnd();
      sessionChanged();
      if (input) input.focus();
    });
    source.addEventListener("fail", (event) => {
      const data = JSON.parse(event.data);
      fail(data.message || "The assistant could not answer. Retry.");
    });
    source.onerror = () => {
      if (!finished) fail("The connection to the assistant was lost. Your message is saved.");
    };
  }

  function startPendingStreams(root) {
    (root || document).querySelectorAll("[data-stream-url][data-autostart]").forEach(startStream);
  }

  document.addEventListener("click", (event) => {
    const retry = event.target.closest("[data-retry]");
    if (retry) {
      const el = retry.closest("[data-stream-url]");
      if (el) {
        event.preventDefault();
        startStream(el);
      }
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const target = document.querySelector(copy.dataset.copy);
      if (!target) return;
      copyText(target.textContent).then(
        () => toast("Copied to the clipboard.", { tone: "emerald", duration: 2000 }),
        () => toast("Could not copy: select the text instead.", { tone: "red" })
      );
      return;
    }
    const toggle = event.target.closest("[data-lane-toggle]");
    if (toggle) setLaneOpen(!document.body.classList.contains("lane-open"));
  });

  function copyText(value) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(value);
    return new Promise((resolve, reject) => {
      const area = document.createElement("textarea");
      area.value = value;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      ok ? resolve() : reject(new Error("copy failed"));
    });
  }

  // ---- Composer ---------------------------------------------------------------------------
  if (input) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (!composer.classList.contains("is-busy") && input.value.trim()) composer.requestSubmit();
      }
    });
  }
  // New session form: Ctrl/Cmd+Enter starts.
  const problem = document.querySelector("[data-testid=new-session-form] textarea");
  if (problem) {
    problem.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        problem.form.requestSubmit();
      }
    });
  }

  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== composer) return;
    const xhr = event.detail.xhr;
    if (event.detail.successful && !xhr.getResponseHeader("HX-Retarget")) {
      composer.reset();
      document.getElementById("composer-error").textContent = "";
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === log) {
      startPendingStreams(log);
      scrollToEnd();
    }
    if (event.detail.target === lane) openLaneIfFacts();
  });

  // ---- Task lane (collapses at 1180 px and below) ------------------------------------------
  const narrow = window.matchMedia("(max-width: 1180px)");
  function setLaneOpen(open) {
    document.body.classList.toggle("lane-open", open);
    document.querySelectorAll("[data-lane-toggle]").forEach((b) => b.setAttribute("aria-expanded", String(open)));
  }
  function openLaneIfFacts() {
    const inner = lane && lane.querySelector("[data-has-facts]");
    if (inner && inner.dataset.hasFacts === "1" && narrow.matches) setLaneOpen(true);
  }

  openLaneIfFacts();
  startPendingStreams(document);
  scrollToEnd();
})();
