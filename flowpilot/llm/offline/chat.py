"""The offline chat assistant: a troubleshooting conversation driven by runbooks and evidence.

Every reply is a pure function of the messages and the context, recomputed each turn:

* **Which problem.** The runbook is chosen on the first user turn whose text (with
  ``context["problem"]``) clears the match threshold; that turn is the *intro* (plan and full
  lane). A later answer switches runbook when one of its findings says so (``switch`` in the
  runbook) or when it clearly describes another problem; the reply says why. Until a runbook
  matches, the reply says the problem is not recognised and asks intake questions.
* **What was said.** Each user message is read by ``matching.read_message``: the items it
  answers (several per message, negation, scope, timing, pasted output) become ``[PROMOTE]``
  facts worded as the runbook's conclusion *with the engineer's words as evidence*, or as the
  engineer's own words when the item lists options. Shared signals no item takes (a recent
  firmware update, "every ten minutes") are recorded in the engineer's words under a topic.
  Nothing else is ever promoted.
* **What it means.** The evidence ranks the runbook's causes (``reasoning.rank_causes``,
  with ``context["cause_boosts"]`` as priors). The suggested fix is the leading cause's, its
  reason names the evidence and its confidence follows it.
* **What next.** A failed or partial outcome rules its cause out: the reply names the next
  cause and its checks, and the following turn drafts that cause's fix (never the same one
  again). "What else should I check?" lists the next open checks; "it's broken again" after a
  fix worked offers the reopen path and the next cause.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowpilot.llm.markers import format_marker
from flowpilot.llm.offline import memory
from flowpilot.llm.offline.knowledge import (
    MATCH_THRESHOLD,
    Cause,
    Check,
    Question,
    Runbook,
    load_runbooks,
    match_runbook,
    normalize,
    rank_runbooks,
    runbook_by_id,
)
from flowpilot.llm.offline.language import (
    SIGNALS_BY_NAME,
    asks_for_checks,
    asks_for_fix,
    is_yes,
    outcome_of,
    phrase_found,
    says_broken_again,
)
from flowpilot.llm.offline.matching import Finding, item_text, read_message
from flowpilot.llm.offline.reasoning import RankedCause, confidence, rank_causes
from flowpilot.llm.types import Message

__all__ = ["GENERIC_CHECKS", "GENERIC_QUESTIONS", "RUN_FIX_ACTION", "chat_reply", "phrase_found"]

TERMINAL_FIX_STATUSES = frozenset({"applied_success", "applied_failed", "dismissed"})
RULED_OUT_STATUSES = frozenset({"applied_failed", "applied_partial"})
# A message has to describe another problem this much more strongly to switch runbook.
SWITCH_THRESHOLD = MATCH_THRESHOLD * 1.5
SWITCH_RATIO = 0.34

GENERIC_QUESTIONS = (
    "What is the exact error message or code (a screenshot's text is fine)?",
    "Who is affected: one user, several users, or everyone?",
    "When did it start, and what changed around then (updates, password change, new hardware)?",
    "What has already been tried?",
)
GENERIC_CHECKS = (
    (
        "Collect recent system and application errors",
        "Get-WinEvent -FilterHashtable @{LogName='System','Application'; Level=1,2; "
        "StartTime=(Get-Date).AddHours(-24)} -MaxEvents 50 | "
        "Select-Object TimeCreated, LogName, ProviderName, Id, Message",
    ),
    (
        "List recently installed updates",
        "Get-HotFix | Sort-Object InstalledOn -Descending | "
        "Select-Object -First 10 HotFixID, Description, InstalledOn",
    ),
)
RUN_FIX_ACTION = "Run the suggested fix and report whether it worked"

_FIX_REFERENCES = (
    "the fix",
    "the script",
    "ran it",
    "ran the",
    "run it",
    "tried it",
    "tried that",
    "tried the",
    "did that",
    "done that",
    "after running",
    "after that",
    "applied",
    "that did it",
    "that worked",
    "that fixed",
    "after the reboot",
    "after rebooting",
    "after the reset",
    "after the restart",
)
_ACKS = ("Got it", "Thanks", "Noted", "OK")


@dataclass
class _Reply:
    paragraphs: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)

    def render(self) -> str:
        text = "\n\n".join(tidy(paragraph) for paragraph in self.paragraphs if paragraph)
        if self.markers:
            text = f"{text}\n\n" + "\n".join(self.markers)
        return text.strip()


@dataclass(frozen=True)
class _Track:
    runbook: Runbook | None
    start: int
    previous: Runbook | None = None
    reason: str = ""


@dataclass(frozen=True)
class _Promotion:
    text: str
    summary: str  # how the reply says it
    source: str
    ref: str
    item: Question | Check | None


def chat_reply(messages: Sequence[Message], context: dict[str, Any]) -> str:
    problem = str(context.get("problem") or "").strip()
    user_messages = [message.content for message in messages if message.role == "user"]
    if not user_messages and problem:
        user_messages = [problem]
    track = _track_runbook(problem, user_messages)
    if track.runbook is None:
        return _unknown_reply(user_messages, context)
    return _Conversation(track, problem, messages, user_messages, context).reply()


# --- which runbook ----------------------------------------------------------------------------


def _track_runbook(problem: str, user_messages: list[str]) -> _Track:
    problem_key = normalize(problem)
    track = _Track(runbook=None, start=len(user_messages))
    for turn, text in enumerate(user_messages):
        runbook = track.runbook
        if runbook is None:
            texts = [(problem, 2.0)] if problem else []
            # The problem is often also the first message; counting it twice would let one
            # weak word clear the threshold.
            texts += [
                (earlier, 1.0)
                for earlier in user_messages[: turn + 1]
                if normalize(earlier) != problem_key
            ]
            match = match_runbook(texts)
            if match is not None:
                track = _Track(runbook=match.runbook, start=turn)
            continue
        switched = _switch_target(runbook, text)
        if switched is not None:
            target, reason = switched
            track = _Track(runbook=target, start=turn, previous=runbook, reason=reason)
    return track


_switch_cache: dict[tuple[int, str], tuple[Runbook, str] | None] = {}


def _switch_target(runbook: Runbook, text: str) -> tuple[Runbook, str] | None:
    key = (id(runbook), text)
    if key not in _switch_cache:
        if len(_switch_cache) >= 8192:
            _switch_cache.clear()
        _switch_cache[key] = _find_switch_target(runbook, text)
    return _switch_cache[key]


def _find_switch_target(runbook: Runbook, text: str) -> tuple[Runbook, str] | None:
    reading = read_message(runbook, text)
    for finding in reading.findings:
        if finding.confirmation.switch:
            target = runbook_by_id(finding.confirmation.switch)
            if target is not None and target.id != runbook.id:
                return target, finding.clause
    if reading.findings or outcome_of(text) or asks_for_fix(text) or asks_for_checks(text):
        return None
    ranking = rank_runbooks([(text, 1.0)])
    top = ranking[0]
    if top.runbook.id == runbook.id or top.score < SWITCH_THRESHOLD:
        return None
    current = next(match.score for match in ranking if match.runbook.id == runbook.id)
    if current > top.score * SWITCH_RATIO:
        return None
    return top.runbook, _clip(text, 140)


# --- one conversation -------------------------------------------------------------------------


class _Conversation:
    def __init__(
        self,
        track: _Track,
        problem: str,
        messages: Sequence[Message],
        user_messages: list[str],
        context: dict[str, Any],
    ) -> None:
        assert track.runbook is not None
        self.runbook: Runbook = track.runbook
        self.track = track
        self.context = context
        self.messages = list(messages)
        self.user_messages = user_messages
        self.latest = user_messages[-1]
        self.last_turn = len(user_messages) - 1
        problem_is_first = bool(user_messages) and normalize(problem) == normalize(user_messages[0])
        # Every text the engineer wrote, oldest first; the problem summary counts as said.
        self.texts = ([problem] if problem and not problem_is_first else []) + user_messages
        self.readings = [read_message(self.runbook, text) for text in self.texts]
        self.known = {_statement_key(str(fact)) for fact in context.get("facts") or []}
        active = context.get("active_fix")
        self.active_fix: dict[str, Any] | None = active if isinstance(active, dict) else None
        self.fix_status = (
            str(self.active_fix.get("status") or "proposed") if self.active_fix else None
        )
        self.fix_title = str(self.active_fix.get("title") or "") if self.active_fix else ""
        self.assistant_text = " ".join(m.content for m in messages if m.role == "assistant")
        boosts = context.get("cause_boosts")
        self.boosts: dict[str, float] = (
            {str(k): float(v) for k, v in boosts.items() if isinstance(v, int | float)}
            if isinstance(boosts, dict)
            else {}
        )
        # Institutional memory: past outcomes of a cause's fix move its prior (see memory.py).
        self.past_fixes = memory.memory_context(context)
        if self.past_fixes:
            extra = memory.cause_boosts(load_runbooks(), self.past_fixes)
            self.boosts = memory.merged_boosts(self.boosts, extra)
        self.overtaken = False
        self.outcome = self._latest_outcome()
        self.ruled_out, self.solved = self._history()

    # --- facts ---------------------------------------------------------------------------

    @property
    def intro(self) -> bool:
        return self.track.start == self.last_turn

    def _new_text_indexes(self) -> range:
        # On the turn a runbook starts, everything said so far is read for it.
        offset = len(self.texts) - len(self.user_messages)
        first = 0 if self.intro else offset + self.last_turn
        return range(first, len(self.texts))

    def promotions(self) -> list[_Promotion]:
        indexes = self._new_text_indexes()
        earlier = {
            id(finding.confirmation)
            for index, reading in enumerate(self.readings)
            if index < indexes.start
            for finding in reading.findings
        }
        promoted: list[_Promotion] = []
        seen: set[str] = set(self.known)
        covered_signals: set[str] = set()
        covered_clauses: set[str] = set()
        for index in indexes:
            reading = self.readings[index]
            findings = list(reading.findings)
            if index == len(self.texts) - 1 and not findings:
                findings += self._yes_finding()
            for finding in findings:
                covered_signals.update(finding.confirmation.signals)
                covered_clauses.add(finding.clause)
                if id(finding.confirmation) in earlier:
                    continue
                text = fact_text(finding)
                key = _statement_key(text)
                if key in seen:
                    continue
                seen.add(key)
                promoted.append(
                    _Promotion(
                        text=text,
                        summary=_summary(finding),
                        source="question" if isinstance(finding.item, Question) else "check",
                        ref=item_text(finding.item),
                        item=finding.item,
                    )
                )
        topics: set[str] = set()
        problem_key = normalize(str(self.context.get("problem") or ""))
        for index in indexes:
            if outcome_of(self.texts[index]) is not None:
                # "Still slow" reports on the fix; it is not a new observation.
                continue
            if normalize(self.texts[index]) == problem_key:
                # The problem statement is on the session already; repeating it under a
                # topic adds nothing to What we know.
                continue
            for hit in self.readings[index].signals:
                signal = SIGNALS_BY_NAME[hit.name]
                if (
                    hit.name in covered_signals
                    or hit.clause in covered_clauses
                    or signal.topic in topics
                ):
                    continue
                topics.add(signal.topic)
                text = f"{signal.topic}: {_sentence(_clip(hit.clause, 160))}"
                key = _statement_key(text)
                if key in seen:
                    continue
                seen.add(key)
                promoted.append(
                    _Promotion(
                        text=text,
                        summary=signal.label,
                        source="ai",
                        ref="",
                        item=None,
                    )
                )
        return promoted

    def _yes_finding(self) -> list[Finding]:
        # A bare "yes" can only answer a question when exactly one is still open.
        if not is_yes(self.latest) or len(self.latest.split()) > 4:
            return []
        questions = [item for item in self.open_items() if isinstance(item, Question)]
        if len(questions) != 1 or questions[0].confirms[0].echoes_words:
            return []
        question = questions[0]
        return [Finding(item=question, confirmation=question.confirms[0], clause=self.latest)]

    # --- lane ----------------------------------------------------------------------------

    def open_items(self, *, upto: int | None = None) -> list[Question | Check]:
        readings = self.readings if upto is None else self.readings[:upto]
        answered = {id(f.item) for reading in readings for f in reading.findings}
        items = [item for item in self.runbook.items if id(item) not in answered]
        if self.intro:
            return items
        return self._restrict_to_session_lane(items)

    def _restrict_to_session_lane(self, items: list[Question | Check]) -> list[Question | Check]:
        # Items the engineer already dismissed or promoted in the session stay gone.
        context = self.context
        questions = {normalize(str(t)) for t in context.get("open_questions") or []}
        checks = {normalize(str(t)) for t in context.get("open_checks") or []}
        kept = []
        for item in items:
            if isinstance(item, Question):
                if "open_questions" in context and normalize(item.text) not in questions:
                    continue
            elif "open_checks" in context and normalize(item.label) not in checks:
                continue
            kept.append(item)
        return kept

    def previous_lane(self) -> tuple[list[str], list[str], list[str]]:
        context = self.context
        if "open_questions" in context or "open_checks" in context:
            questions = [str(text) for text in context.get("open_questions") or []]
            checks = [str(text) for text in context.get("open_checks") or []]
        else:
            before = self.open_items(upto=len(self.readings) - 1)
            questions = [item.text for item in before if isinstance(item, Question)]
            checks = [item.label for item in before if isinstance(item, Check)]
        return questions, checks, [RUN_FIX_ACTION] if self.fix_open() else []

    def fix_open(self) -> bool:
        return self.active_fix is not None and self.fix_status not in TERMINAL_FIX_STATUSES

    # --- outcomes and the hypothesis -----------------------------------------------------

    def _latest_outcome(self) -> str | None:
        if not self.fix_open() or self.intro:
            return None
        assert self.active_fix is not None
        applied = bool(self.active_fix.get("applied_at")) or self.fix_status in (
            "applied_pending",
            "applied_partial",
        )
        outcome = outcome_of(self.latest)
        if outcome is None:
            return None
        if applied or _speaks_of_the_fix(self.latest) or _leads_with_outcome(self.latest):
            return outcome
        return None

    def _history(self) -> tuple[set[str], set[str]]:
        ruled_out: set[str] = set()
        solved: set[str] = set()
        proposed: Cause | None = None
        users_seen = 0
        self.remedy_failed: Cause | None = None
        for message in self.messages:
            if message.role == "assistant":
                proposed = self._cause_named_in(message.content) or proposed
                continue
            users_seen += 1
            latest = users_seen - 1 == self.last_turn
            if proposed is None or (latest and proposed.fix is not None):
                # A scripted fix's outcome comes from the fix card and this turn's proposal.
                continue
            outcome = outcome_of(message.content)
            if outcome is None or not (
                _speaks_of_the_fix(message.content) or _leads_with_outcome(message.content)
            ):
                continue
            (solved if outcome == "applied_success" else ruled_out).add(proposed.id)
            if latest and outcome != "applied_success":
                self.remedy_failed = proposed
        self.active_cause = (
            self.runbook.cause_for_fix_title(self.fix_title) if self.fix_title else None
        )
        active = self.active_cause
        if active is not None:
            if self.fix_status in RULED_OUT_STATUSES or self.outcome in RULED_OUT_STATUSES:
                ruled_out.add(active.id)
            if self.fix_status == "applied_success" or self.outcome == "applied_success":
                solved.add(active.id)
        if solved and says_broken_again(self.latest):
            # A fix that held for a while treated the symptom: look past its cause.
            ruled_out |= solved
        return ruled_out, solved

    def _cause_named_in(self, text: str) -> Cause | None:
        for cause in self.runbook.causes:
            if cause.fix is not None and f"**{cause.fix.title}**" in text:
                return cause
            if f"**Likely cause:** {_capital(cause.summary)}" in text:
                return cause
        return None

    def evidence(self) -> set[str]:
        names: set[str] = set()
        for reading in self.readings:
            names.update(reading.evidence)
        return names

    def ranking(self) -> list[RankedCause]:
        return rank_causes(
            self.runbook, self.evidence(), boosts=self.boosts, ruled_out=self.ruled_out
        )

    def lead(self, ranking: list[RankedCause]) -> RankedCause | None:
        live = [item for item in ranking if not item.ruled_out]
        return live[0] if live else None

    # --- replies -------------------------------------------------------------------------

    def reply(self) -> str:
        if self.intro and self.track.previous is None:
            return self._intro_reply()
        if self.intro:
            return self._switch_reply()
        return self._answer_reply()

    def _intro_reply(self) -> str:
        runbook = self.runbook
        reply = _Reply()
        promotions = self.promotions()
        reply.paragraphs.append(
            f"This sounds like a problem with {runbook.topic}. {runbook.summary}"
        )
        if promotions:
            reply.paragraphs.append(_learned_text("From your description I've noted", promotions))
        steps = "\n".join(f"{number}. {step}" for number, step in enumerate(runbook.plan, 1))
        reply.paragraphs.append(f"**Plan**\n\n{steps}")
        open_now = self._open_after(promotions)
        reply.paragraphs.append(
            f"I've put {_lane_counts(open_now)} in the task lane. Answer what you can and paste "
            "check output here; I'll record what we confirm and suggest a fix once the picture "
            "is clear."
        )
        reply.markers.append(format_marker("TASKS", _lane_payload(list(runbook.items), actions=[])))
        reply.markers += _promote_markers(promotions)
        return reply.render()

    def _switch_reply(self) -> str:
        previous = self.track.previous
        assert previous is not None
        reply = _Reply()
        promotions = self.promotions()
        reply.paragraphs.append(
            f"That changes the picture: “{_clip(self.track.reason, 140)}” points away from "
            f"{previous.topic} and towards {self.runbook.topic}, so I've switched to that. "
            f"{self.runbook.summary}"
        )
        if promotions:
            reply.paragraphs.append(
                _learned_text("What you've told me so far that fits", promotions)
            )
        open_now = self._open_after(promotions)
        reply.paragraphs.append(
            f"I've replaced the task lane with {_lane_counts(open_now)} for this."
        )
        reply.markers.append(
            format_marker("TASKS", _lane_payload(list(self.runbook.items), actions=[]))
        )
        reply.markers += _promote_markers(promotions)
        return reply.render()

    def _open_after(self, promotions: list[_Promotion]) -> list[Question | Check]:
        closed = {id(p.item) for p in promotions if p.item is not None}
        return [item for item in self.open_items() if id(item) not in closed]

    def _answer_reply(self) -> str:
        reply = _Reply()
        ack = _ACKS[zlib.crc32(self.latest.encode()) % len(_ACKS)]
        promotions = self.promotions()
        ranking = self.ranking()
        lead = self.lead(ranking)
        outcome = self.outcome
        suggest: RankedCause | None = None
        steps_only: RankedCause | None = None

        if outcome is not None:
            reply.paragraphs.append(self._outcome_text(outcome, lead))
            reply.markers.append(
                format_marker(
                    "FIX_OUTCOME", {"outcome": outcome, "reason": _clip(self.latest.strip(), 300)}
                )
            )
        broken_again = outcome is None and bool(self.solved) and says_broken_again(self.latest)
        if broken_again:
            reply.paragraphs.append(self._broken_again_text(lead))
        elif (
            outcome is None
            and self.fix_status == "applied_success"
            and not promotions
            and not asks_for_fix(self.latest)
        ):
            reply.paragraphs.append(
                f"**{self.fix_title}** is already recorded as having worked. When you're ready, "
                "preview the resolution note and post it to the ticket."
            )

        if self.remedy_failed is not None and outcome is None:
            reply.paragraphs.append(self._remedy_failed_text(lead))
        if promotions:
            reply.paragraphs.append(_learned_text(ack, promotions))
        elif outcome is None and not broken_again and self.remedy_failed is None:
            unmatched = self._unmatched_text()
            if unmatched:
                reply.paragraphs.append(unmatched)

        wants_checks = asks_for_checks(self.latest) and outcome is None
        if (
            outcome is None
            and lead is not None
            and lead.cause.fix is None
            and asks_for_fix(self.latest)
            and self._already_named(lead.cause)
        ):
            # The remedy was given already: what is left to do is testing it.
            wants_checks = True
        if (
            outcome is None
            and not wants_checks
            and lead is not None
            and self._should_suggest(lead, promotions, broken_again)
        ):
            if lead.cause.fix is not None:
                suggest = lead
            elif not self._already_named(lead.cause):
                steps_only = lead

        open_now = self._open_after(promotions)
        if outcome is None and self.fix_open() and suggest is None and asks_for_fix(self.latest):
            reply.paragraphs.append(
                f"**{self.fix_title}** is still the suggested fix: run it and tell me how it "
                "went. If it can't be run, dismiss it on the fix card and I'll move on to the "
                "next most likely cause."
            )
        if wants_checks:
            reply.paragraphs.append(self._checks_text(open_now, lead))
        if suggest is not None:
            reply.paragraphs.append(self._fix_text(suggest, ranking))
            assert suggest.cause.fix is not None
            payload = suggest.cause.fix.as_marker_payload()
            payload["confidence"] = confidence(ranking, suggest)
            reply.markers.append(format_marker("SUGGEST_FIX", payload))
        elif steps_only is not None:
            reply.paragraphs.append(self._steps_text(steps_only))

        if outcome is None and suggest is None and not wants_checks and steps_only is None:
            reply.paragraphs.append(self._still_open_text(open_now, lead))

        fix_pending = suggest is not None or (self.fix_open() and outcome is None)
        lane = list(open_now)
        actions = [RUN_FIX_ACTION] if fix_pending else []
        current = (
            [item.text for item in lane if isinstance(item, Question)],
            [item.label for item in lane if isinstance(item, Check)],
            actions,
        )
        if current != self.previous_lane():
            reply.markers.insert(0, format_marker("TASKS", _lane_payload(lane, actions=actions)))
        reply.markers += _promote_markers(promotions)
        return reply.render()

    def _should_suggest(
        self, lead: RankedCause, promotions: list[_Promotion], broken_again: bool
    ) -> bool:
        asked = asks_for_fix(self.latest)
        fix = lead.cause.fix
        if self.fix_open() and promotions and self._overtaken(lead):
            self.overtaken = True
            return True
        if self.fix_open() and (
            self.active_cause is None or self.active_cause.id not in self.ruled_out
        ):
            # One active fix at a time, unless the conversation already says it failed.
            return False
        if broken_again:
            return True
        if self.ruled_out and self.fix_status in RULED_OUT_STATUSES | {None}:
            return fix is None or fix.title != self.fix_title
        if self.ruled_out:
            return True
        if self.fix_status == "applied_success":
            return (
                asked
                and fix is not None
                and self.runbook.cause_for_fix_title(self.fix_title) != lead.cause
            )
        named = (
            fix is not None and f"**{fix.title}**" in self.assistant_text
        ) or self._already_named(lead.cause)
        if named:
            return asked
        answers = self.last_turn - self.track.start
        return asked or answers >= 2 or bool(promotions)

    def _overtaken(self, lead: RankedCause) -> bool:
        """Whether new evidence moved the lead well past a proposed fix nobody ran yet."""
        active = self.active_cause
        if active is None or lead.cause is active:
            return False
        assert self.active_fix is not None
        if self.active_fix.get("applied_at") or self.fix_status != "proposed":
            return False
        current = next(item for item in self.ranking() if item.cause is active)
        return lead.score - current.score >= 1.0

    def _already_named(self, cause: Cause) -> bool:
        return f"**Likely cause:** {_capital(cause.summary)}" in self.assistant_text

    def _outcome_text(self, outcome: str, lead: RankedCause | None) -> str:
        title = self.fix_title or "the fix"
        if outcome == "applied_success":
            return (
                f"Good news: that suggests **{title}** fixed it. I've proposed marking the fix "
                "as worked; confirm it on the fix card, then preview and post the resolution note."
            )
        first = (
            f"Understood, **{title}** only partly helped, so I've proposed recording it as "
            "partially applied."
            if outcome == "applied_partial"
            else f"Understood, **{title}** didn't fix it, so I've proposed recording it as not "
            "working."
        )
        if lead is None:
            return (
                f"{first} That was the last cause I know for {self.runbook.topic}. Next I'd "
                f"look at:\n\n{_bullets(self.runbook.next_steps[:3])}\n\nIf you're stuck, "
                "escalate the session; everything confirmed so far goes with it."
            )
        checks = self._cause_checks(lead)
        why = self._why(lead)
        text = f"{first} That makes {_lower(lead.cause.summary)} the most likely cause now{why}."
        if checks:
            text += f" To test it:\n\n{_bullets(checks)}"
        if lead.cause.fix is not None:
            text += (
                "\n\nConfirm the outcome on the fix card and I'll draft "
                f"**{lead.cause.fix.title}** next."
            )
        else:
            text += f"\n\nIf that's confirmed, the remedy is:\n\n{_bullets(lead.cause.steps)}"
        return text

    def _remedy_failed_text(self, lead: RankedCause | None) -> str:
        failed = self.remedy_failed
        assert failed is not None
        first = f"Understood, so it isn't {_lower(failed.summary)}."
        if lead is None:
            return (
                f"{first} That was the last cause I know for {self.runbook.topic}; escalating "
                "is the next step, with everything recorded so far."
            )
        return f"{first} Next most likely: {_lower(lead.cause.summary)}."

    def _broken_again_text(self, lead: RankedCause | None) -> str:
        resolved = str(self.context.get("status") or "") == "resolved"
        first = (
            "Sorry to hear it's back. This session is resolved, so reopen it first (Reopen "
            "on the session page, with a short reason) and the new findings stay with the old."
            if resolved
            else "Sorry to hear it's back. The earlier fix is recorded as having worked, so it "
            "only held for a while: reopen the session if it was already resolved (Reopen on "
            "the session page, with a short reason) so the new findings stay with the old."
        )
        if lead is None:
            return f"{first} I have no other cause left for this, so escalating is the next step."
        return (
            f"{first} The fix treated the symptom; next I'd look at {_lower(lead.cause.summary)}."
        )

    def _unmatched_text(self) -> str:
        reading = self.readings[-1]
        if outcome_of(self.latest) is not None:
            return ""
        clauses = [c for c in reading.unmatched if len(c.split()) >= 3]
        clause = max(clauses, key=len) if clauses else ""
        open_now = self.open_items()
        if asks_for_fix(self.latest) or asks_for_checks(self.latest) or not clause:
            return ""
        ask = f" Could you tell me: {item_text(open_now[0])}" if open_now else ""
        return f"I've read “{_clip(clause, 120)}”, but it doesn't answer anything open yet.{ask}"

    def _checks_text(self, open_now: list[Question | Check], lead: RankedCause | None) -> str:
        checks = [item for item in open_now if isinstance(item, Check)]
        preferred = set(lead.cause.checks) if lead else set()
        checks.sort(key=lambda check: check.label not in preferred)
        if checks:
            listed = "\n".join(
                f"{number}. {check.label}" for number, check in enumerate(checks[:3], 1)
            )
            focus = f", most useful first for {_short(lead.cause.summary)}" if lead else ""
            return f"The checks still open{focus}:\n\n{listed}\n\nPaste the output here."
        if lead is not None and lead.cause.steps:
            return (
                "Every check in the lane is done. For "
                f"{_lower(lead.cause.summary)} I'd look at:\n\n{_bullets(lead.cause.steps)}"
            )
        return f"Every check is done. Next I'd look at:\n\n{_bullets(self.runbook.next_steps[:3])}"

    def _fix_text(self, ranked: RankedCause, ranking: list[RankedCause]) -> str:
        fix = ranked.cause.fix
        assert fix is not None
        why = self._why(ranked)
        reason = (
            f"{_capital(why.removeprefix(', since '))}, so this fits best."
            if why
            else "With the earlier fix set aside, this is the next most likely cause."
            if self.ruled_out
            else "Nothing rules it out yet and it is the most common cause, so start here."
        )
        tried = " It replaces the earlier fix that didn't hold." if self.ruled_out else ""
        if self.overtaken:
            tried = f" It replaces **{self.fix_title}**, which the new evidence no longer supports."
        past = memory.note_for(self.runbook, ranked.cause, self.past_fixes)
        if past.startswith("This fixed") and not why and not self.ruled_out:
            reason = "Nothing rules it out, and it worked here before."
        past = f" {past}" if past else ""
        return (
            f"**Likely cause:** {_capital(ranked.cause.summary)}. {reason}{past}\n\n"
            f"I've drafted a fix: **{fix.title}** ({confidence(ranking, ranked)}% confidence). "
            f"{fix.description}{tried} Review the parameters on the fix card before running it, "
            "then tell me whether it worked."
        )

    def _steps_text(self, ranked: RankedCause) -> str:
        why = self._why(ranked)
        reason = f"{_capital(why.removeprefix(', since '))}, so this fits best. " if why else ""
        if self.overtaken:
            reason += (
                f"That leaves **{self.fix_title}** unsupported, so dismiss it on the fix card "
                "rather than run it. "
            )
        return (
            f"**Likely cause:** {_capital(ranked.cause.summary)}. {reason}This is not something "
            f"a script on the PC fixes; the remedy is:\n\n{_bullets(ranked.cause.steps)}\n\n"
            "Tell me what you find, or escalate with everything recorded so far."
        )

    def _still_open_text(self, open_now: list[Question | Check], lead: RankedCause | None) -> str:
        if not open_now:
            return "That covers every question and check I had for this problem."
        first = open_now[0]
        hint = (
            f"next I'd run “{first.label}”" if isinstance(first, Check) else f"next: {first.text}"
        )
        return f"Still open: {_lane_counts(open_now)}; {hint}"

    def _why(self, ranked: RankedCause) -> str:
        labels = [self._evidence_label(name) for name in ranked.supporting]
        labels = [label for label in dict.fromkeys(labels) if label]
        if not labels:
            return ""
        return ", since " + _join(labels[:3])

    def _evidence_label(self, name: str) -> str:
        signal = SIGNALS_BY_NAME.get(name)
        if signal is not None:
            return signal.label
        for item in self.runbook.items:
            for confirmation in item.confirms:
                if confirmation.id == name:
                    fact = confirmation.fact.replace("{said}", "").strip()
                    # "X, which points to Y" — the reason is X.
                    return _lower(_strip_end(re.split(r", which |, so |; | \(", fact)[0]))
        return ""

    def _cause_checks(self, ranked: RankedCause) -> list[str]:
        open_labels = {item.label for item in self.open_items() if isinstance(item, Check)}
        return [label for label in ranked.cause.checks if label in open_labels][:3]


# --- the unknown problem ----------------------------------------------------------------------


def _unknown_reply(user_messages: list[str], context: dict[str, Any]) -> str:
    reply = _Reply()
    first_turn = len(user_messages) <= 1
    if first_turn:
        reply.paragraphs.append(
            "I don't recognise this problem from my runbooks, so I won't guess at a cause yet."
        )
    else:
        reply.paragraphs.append(
            "I still can't match this to a problem I know, so I don't have a tested fix to offer."
        )
    if user_messages and asks_for_fix(user_messages[-1]):
        reply.paragraphs.append(
            "Without a recognised pattern I'd rather not propose a script. If you're stuck, "
            "escalate the session; everything recorded so far goes with it."
        )
    reply.paragraphs.append(
        "To narrow it down, tell me:\n\n"
        "- the exact error message or code\n"
        "- who and what is affected (one user, several, one device or all)\n"
        "- when it started and what changed around then\n"
        "- what has already been tried"
    )
    session_has_lane = bool(context.get("open_questions") or context.get("open_checks"))
    if first_turn and not session_has_lane:
        checks = [{"label": label, "command": command} for label, command in GENERIC_CHECKS]
        reply.markers.append(
            format_marker(
                "TASKS",
                {
                    "questions": [{"text": text} for text in GENERIC_QUESTIONS],
                    "checks": checks,
                    "actions": [],
                },
            )
        )
    return reply.render()


# --- wording ----------------------------------------------------------------------------------


def fact_text(finding: Finding) -> str:
    """The fact a finding promotes: the engineer's own words when the fact echoes them,
    otherwise the runbook's conclusion followed by the words that support it."""
    said = _clip(" ".join(finding.clause.split()), 160)
    fact = finding.confirmation.fact
    if finding.confirmation.echoes_words:
        return _sentence(fact.replace("{said}", said))
    return f"{_strip_end(fact)} (“{said}”)."


def _statement_key(text: str) -> str:
    return normalize(_strip_end(text.split(" (“")[0]))


def _summary(finding: Finding) -> str:
    fact = finding.confirmation.fact
    if finding.confirmation.echoes_words:
        return _strip_end(fact.replace("{said}", f"“{_clip(finding.clause, 120)}”"))
    return _strip_end(fact)


def _learned_text(opener: str, promotions: list[_Promotion]) -> str:
    if len(promotions) == 1:
        return f"{opener}: {_lower(promotions[0].summary)}."
    return f"{opener}:\n\n" + "\n".join(f"- {_capital(p.summary)}" for p in promotions)


def _promote_markers(promotions: list[_Promotion]) -> list[str]:
    return [
        format_marker("PROMOTE", {"text": p.text, "source": p.source, "ref": p.ref})
        for p in promotions
    ]


def _lane_payload(items: Sequence[Question | Check], *, actions: list[str]) -> dict[str, Any]:
    return {
        "questions": [{"text": item.text} for item in items if isinstance(item, Question)],
        "checks": [
            {"label": item.label, "command": item.command}
            for item in items
            if isinstance(item, Check)
        ],
        "actions": [{"label": label} for label in actions],
    }


def _lane_counts(items: Sequence[Question | Check]) -> str:
    questions = sum(1 for item in items if isinstance(item, Question))
    checks = len(items) - questions
    parts = [_count(questions, "question")] if questions else []
    if checks:
        parts.append(_count(checks, "check"))
    return " and ".join(parts) if parts else "nothing"


def _speaks_of_the_fix(text: str) -> bool:
    """Before the fix is applied, "it works on her hotspot" is a diagnostic answer, not an
    outcome: only a message that refers to the fix itself proposes one."""
    latest = normalize(text)
    return any(phrase in latest for phrase in _FIX_REFERENCES)


def _leads_with_outcome(text: str) -> bool:
    first = normalize(text)[:40]
    return bool(
        re.match(
            r"^(?:nope,? |no,? |sadly,? |unfortunately,? )?(?:it |that |this )?"
            r"(?:didn't|did not|didnt|doesn't|does not|still|no luck|no change|no joy|worked|"
            r"fixed|sorted|partly|partially|helped)",
            first,
        )
    )


def _short(summary: str) -> str:
    return _lower(summary.split(" (", 1)[0])


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _join(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _strip_end(text: str) -> str:
    return text.strip().rstrip(".").rstrip()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…", "”", '"')) else f"{text}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower(text: str) -> str:
    # Keep acronyms and names ("VPN", "Outlook") as they are.
    if len(text) > 1 and text[1].isupper():
        return text
    if text.split(" ", 1)[0] in {"Outlook", "Teams", "OneDrive", "Windows", "Chrome", "Edge"}:
        return text
    return text[:1].lower() + text[1:]


def tidy(text: str) -> str:
    """Clean punctuation: no doubled stops, no space before punctuation, no '?.'."""
    text = re.sub(r"([.!?])\.(?!\.)", r"\1", text)
    text = re.sub(r"\.{2}(?!\.)", ".", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text)
    text = re.sub(r",\s*,", ",", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()
