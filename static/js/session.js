// Session page: streaming replies (SSE), composer keys, the collapsible task lane.
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

  // A reply being written does not lock the composer: a message sent meanwhile is saved and
  // queued (its placeholder says so) and streams its own reply when its turn comes.
  function setBusy(busy) {
    if (!composer) return;
    composer.classList.toggle("is-busy", busy || streaming() > 0);
  }

  function streaming() {
    return document.querySelectorAll("[data-stream-url][data-started='1']").length;
  }

  const QUEUED = "Queued — waiting for the reply before it";

  function setQueued(el, queued) {
    el.classList.toggle("is-queued", queued);
    const typing = el.querySelector("[data-typing]");
    if (typing) typing.textContent = queued ? "· " + QUEUED : "· writing…";
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
  // Partial Markdown as clean text while tokens arrive: no **, __, backticks or heading #s;
  // bullets as "•". Every "*" goes, so a marker split across two tokens never shows either.
  function streamingText(value) {
    return value
      .replace(/^(\s*)[*+-]\s+/gm, "$1• ")
      .replace(/^\s{0,3}#{1,6}\s+/gm, "")
      .replace(/\*+|__|`+/g, "");
  }

  function startStream(el) {
    if (el.dataset.started === "1") return;
    // Another reply on this page is still streaming: this one waits its turn.
    setQueued(el, streaming() > 0);
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
      setQueued(el, false);
      if (typing) typing.hidden = true;
      el.querySelector("[data-stream-error-text]").textContent = message;
      error.hidden = false;
      setBusy(false);
    }

    let raw = "";
    source.addEventListener("queued", () => {
      if (!raw) setQueued(el, true);
    });
    source.addEventListener("token", (event) => {
      setQueued(el, false);
      const data = JSON.parse(event.data);
      // Text only, without the Markdown markers: the final message is rendered (sanitised)
      // by the server and replaces this.
      raw += data.text;
      text.textContent = streamingText(raw);
      scrollToEnd();
    });
    source.addEventListener("done", (event) => {
      finished = true;
      source.close();
      el.dataset.started = "0";
      const data = JSON.parse(event.data);
      const fragment = fromHTML(data.html);
      const existing = document.getElementById("step-" + data.step_id);
      if (existing) el.remove(); else el.replaceWith(fragment);
      if (lane && data.lane_html) {
        const kept = typedAnswers();
        lane.innerHTML = data.lane_html;
        if (window.htmx) window.htmx.process(lane);
        restoreAnswers(kept);
        openLaneIfFacts();
      }
      // The fix panel beside the lane: only its card follows the turn (a new or changed fix);
      // an open preview refreshes itself on session-changed.
      const card = document.getElementById("fix-card");
      if (card && data.fix_card_html) {
        const fresh = fromHTML(data.fix_card_html).firstElementChild;
        if (fresh) {
          card.replaceWith(fresh);
          if (window.htmx) window.htmx.process(fresh);
        }
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
    const toggle = event.target.closest("[data-lane-toggle]");
    if (toggle) setLaneOpen(!document.body.classList.contains("lane-open"));
  });

  // ---- Lane answers typed but not saved survive a lane re-render ----------------------------
  function typedAnswers() {
    const kept = { values: {}, focus: null };
    if (!lane) return kept;
    lane.querySelectorAll("textarea[name=answer][id]").forEach((field) => {
      if (field.value !== field.defaultValue) kept.values[field.id] = field.value;
    });
    const active = document.activeElement;
    if (active && active.id && lane.contains(active) && active.matches("textarea[name=answer]")) {
      kept.focus = { id: active.id, start: active.selectionStart, end: active.selectionEnd };
    }
    return kept;
  }
  function restoreAnswers(kept) {
    if (!lane || !kept) return;
    Object.keys(kept.values).forEach((id) => {
      const field = document.getElementById(id);
      if (!field || !lane.contains(field)) return;
      const item = field.closest("[data-item-uid]");
      if (id === kept.sent && !(item && item.querySelector(".field-error"))) return;
      field.value = kept.values[id];
    });
    const focus = kept.focus && document.getElementById(kept.focus.id);
    if (focus && lane.contains(focus)) {
      focus.focus();
      try { focus.setSelectionRange(kept.focus.start, kept.focus.end); } catch (e) { /* not a text field */ }
    }
  }
  let keptForSwap = null;
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target !== lane) return;
    keptForSwap = typedAnswers();
    // The answer this request saved comes back from the server, unless it was refused.
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    const form = elt && elt.closest && elt.closest("form");
    const sent = form && form.querySelector("textarea[name=answer][id]");
    if (sent) keptForSwap.sent = sent.id;
  });

  // ---- Composer ---------------------------------------------------------------------------
  if (input) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        // A reply being written does not block sending: the message queues behind it.
        if (!composer.classList.contains("htmx-request") && input.value.trim()) composer.requestSubmit();
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
    if (event.detail.target === lane) {
      restoreAnswers(keptForSwap);
      keptForSwap = null;
      openLaneIfFacts();
    }
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
