"""The offline chat assistant: a deterministic walk through a runbook driven by the conversation.

Turn logic (every reply is a pure function of the messages and the context):

* The runbook is chosen on the first user turn whose text (with ``context["problem"]``) clears
  the match threshold; that turn is the *intro*: acknowledgement, diagnosis plan and a full
  ``[TASKS]`` lane with the runbook's questions and checks. Until a runbook matches, the reply
  says the problem is not recognised, asks for specifics and shows a generic lane (once).
* Each later user message is an *answer*: phrases from the runbook's ``confirms`` found in it
  (not negated in the same clause) emit ``[PROMOTE]`` for facts not already known, and the lane
  shrinks to the items still open, with their text unchanged so item ids stay stable. A bare
  "yes" confirms the only open question.
* ``[SUGGEST_FIX]`` comes once there was an answer that confirmed a fact, or two answers, or
  when the engineer asks for a fix ("fix", "what now", "tried", "next step"), unless a fix is
  already active or was suggested earlier in the conversation (then only on request).
* With an active, not yet concluded fix, "worked / fixed / resolved / that did it" emits
  ``[FIX_OUTCOME]`` applied_success; "didn't work / still failing / no luck" applied_failed;
  "partially / better but" applied_partial, each with the engineer's words as the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowpilot.llm.markers import format_marker
from flowpilot.llm.offline.knowledge import (
    Check,
    Confirmation,
    Question,
    Runbook,
    match_runbook,
    normalize,
)
from flowpilot.llm.types import Message

TERMINAL_FIX_STATUSES = frozenset({"applied_success", "applied_failed", "dismissed"})

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

_NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "aren't",
        "weren't",
        "hasn't",
        "haven't",
        "can't",
        "cannot",
        "won't",
        "nope",
        "without",
    }
)
_YES_RE = re.compile(r"^(yes|yep|yeah|yup|correct|confirmed|affirmative|that's right)\b")
_FIX_REQUEST_RE = re.compile(
    r"\b(fix|fixes|solution|what now|what next|next steps?|what should i do|tried|"
    r"how do i solve|suggest)\b"
)
_PARTIAL_PHRASES = (
    "partially",
    "partly",
    "half working",
    "mostly working",
    "mostly works",
    "better but",
    "improved but",
    "works now but",
    "working now but",
    "some of it",
)
_FAILED_PHRASES = (
    "didn't work",
    "did not work",
    "didnt work",
    "doesn't work",
    "does not work",
    "not working",
    "still failing",
    "still fails",
    "still broken",
    "still the same",
    "still not",
    "still getting",
    "still having",
    "still can't",
    "still cannot",
    "still doesn't",
    "same error",
    "same problem",
    "same issue",
    "no luck",
    "no change",
    "didn't help",
    "did not help",
    "didn't fix",
    "not fixed",
    "made no difference",
    "it failed",
    "script failed",
)
_SUCCESS_PHRASES = (
    "worked",
    "it works",
    "works now",
    "working now",
    "fixed",
    "resolved",
    "that did it",
    "sorted",
    "all good",
    "back to normal",
    "solved",
    "is working",
    "works fine now",
)


@dataclass(frozen=True)
class _Hit:
    item: Question | Check
    confirmation: Confirmation
    answer_index: int


@dataclass
class _Reply:
    paragraphs: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)

    def render(self) -> str:
        text = "\n\n".join(paragraph for paragraph in self.paragraphs if paragraph)
        if self.markers:
            text = f"{text}\n\n" + "\n".join(self.markers)
        return text.strip()


def chat_reply(messages: Sequence[Message], context: dict[str, Any]) -> str:
    problem = str(context.get("problem") or "").strip()
    user_messages = [message.content for message in messages if message.role == "user"]
    if not user_messages and problem:
        user_messages = [problem]
    assistant_text = normalize(
        " ".join(message.content for message in messages if message.role == "assistant")
    )
    intro_turn, runbook = _find_runbook(problem, user_messages)
    if runbook is None:
        return _unknown_reply(user_messages, context)
    if intro_turn == len(user_messages):
        return _intro_reply(runbook, problem or user_messages[-1])
    answers = user_messages[intro_turn:]
    return _answer_reply(runbook, answers, context, assistant_text)


def phrase_found(text: str, phrase: str) -> bool:
    """Whether normalised ``phrase`` occurs in normalised ``text`` as whole words, not negated
    by one of the three words before it in the same clause."""
    pattern = re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")
    for match in pattern.finditer(text):
        clause = re.split(r"[.,;:!?\n()]", text[: match.start()])[-1]
        preceding = clause.split()[-3:]
        if not any(word in _NEGATORS for word in preceding):
            return True
    return False


def _find_runbook(problem: str, user_messages: list[str]) -> tuple[int, Runbook | None]:
    problem_key = normalize(problem)
    for turn in range(1, len(user_messages) + 1):
        texts = [(problem, 2.0)] if problem else []
        # The problem is often also the first message; counting it twice would let one weak
        # word clear the threshold.
        texts += [(text, 1.0) for text in user_messages[:turn] if normalize(text) != problem_key]
        match = match_runbook(texts)
        if match is not None:
            return turn, match.runbook
    return len(user_messages), None


def _intro_reply(runbook: Runbook, problem: str) -> str:
    reply = _Reply()
    reply.paragraphs.append(
        f"This looks like: **{runbook.title}**. {runbook.summary}"
        if not problem
        else f"Thanks — this looks like: **{runbook.title}**. {runbook.summary}"
    )
    steps = "\n".join(f"{number}. {step}" for number, step in enumerate(runbook.plan, 1))
    reply.paragraphs.append(f"**Plan**\n{steps}")
    reply.paragraphs.append(
        "I've put the questions and checks in the task lane. Answer what you can and paste "
        "check output here; I'll record what we confirm and suggest a fix once the picture "
        "is clear."
    )
    reply.markers.append(
        format_marker(
            "TASKS",
            _lane_payload(list(runbook.questions), list(runbook.checks), actions=[]),
        )
    )
    return reply.render()


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
    if user_messages and _FIX_REQUEST_RE.search(normalize(user_messages[-1])):
        reply.paragraphs.append(
            "Without a recognised pattern I'd rather not propose a script. If you're stuck, "
            "escalate the session; everything recorded so far goes with it."
        )
    reply.paragraphs.append(
        "To narrow it down, tell me:\n"
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


def _answer_reply(
    runbook: Runbook, answers: list[str], context: dict[str, Any], assistant_text: str
) -> str:
    normalized = [normalize(answer) for answer in answers]
    latest = normalized[-1]
    latest_index = len(answers) - 1
    known_facts = {normalize(str(fact)) for fact in context.get("facts") or []}
    active_fix = context.get("active_fix") if isinstance(context.get("active_fix"), dict) else None
    fix_status = str(active_fix.get("status") or "proposed") if active_fix else None
    fix_title = str(active_fix.get("title") or "the fix") if active_fix else ""

    items: list[Question | Check] = [*runbook.questions, *runbook.checks]
    open_before = _open_items(items, _hits(items, normalized[:-1]))
    hits = _hits(items, normalized)
    hits += _yes_hits(latest, latest_index, open_before, hits)
    new_hits = [
        hit
        for hit in hits
        if hit.answer_index == latest_index
        and normalize(hit.confirmation.fact) not in known_facts
        and not any(
            other.confirmation == hit.confirmation and other.answer_index < latest_index
            for other in hits
        )
    ]
    new_hits = _dedupe(new_hits)
    open_now = _open_items(items, hits)

    reply = _Reply()
    outcome = None
    if (
        active_fix is not None
        and fix_status not in TERMINAL_FIX_STATUSES
        and (_fix_was_applied(active_fix) or _speaks_of_the_fix(latest))
    ):
        outcome = _detect_outcome(latest)
    if outcome is not None:
        reply.paragraphs.append(_outcome_text(outcome, fix_title, runbook))
        reason = answers[-1].strip()
        reply.markers.append(
            format_marker("FIX_OUTCOME", {"outcome": outcome, "reason": _clip(reason, 300)})
        )
    elif active_fix is not None and fix_status == "applied_success":
        reply.paragraphs.append(
            f"**{fix_title}** is already recorded as having worked. When you're ready, preview "
            "the resolution note and post it to the ticket."
        )

    if new_hits:
        facts = "\n".join(f"- {hit.confirmation.fact}" for hit in new_hits)
        reply.paragraphs.append(f"Noted — that confirms:\n{facts}")
        for hit in new_hits:
            reply.markers.append(
                format_marker(
                    "PROMOTE",
                    {
                        "text": hit.confirmation.fact,
                        "source": "question" if isinstance(hit.item, Question) else "check",
                        "ref": _item_text(hit.item),
                    },
                )
            )
    elif outcome is None:
        reply.paragraphs.append(_nothing_matched_text(open_now))

    suggest = _should_suggest_fix(
        runbook, answers, hits, active_fix, fix_status, assistant_text, latest
    )
    open_questions = [item for item in open_now if isinstance(item, Question)]
    open_checks = [item for item in open_now if isinstance(item, Check)]
    if outcome is None and open_now and not suggest:
        reply.paragraphs.append(
            f"Still open: {_count(len(open_questions), 'question')} and "
            f"{_count(len(open_checks), 'check')} — they stay in the task lane."
        )
    elif outcome is None and not open_now and not suggest:
        reply.paragraphs.append("That covers every question and check I had for this problem.")

    if suggest:
        reply.paragraphs.append(_fix_text(runbook))
        reply.markers.append(format_marker("SUGGEST_FIX", runbook.fix.as_marker_payload()))

    fix_pending = suggest or (
        active_fix is not None and fix_status not in TERMINAL_FIX_STATUSES and outcome is None
    )
    lane_questions, lane_checks = _restrict_to_session_lane(open_questions, open_checks, context)
    actions = [RUN_FIX_ACTION] if fix_pending else []
    previous = _previous_lane(items, open_before, context, active_fix, fix_status)
    current = (
        [question.text for question in lane_questions],
        [check.label for check in lane_checks],
        actions,
    )
    if current != previous:
        reply.markers.insert(
            0, format_marker("TASKS", _lane_payload(lane_questions, lane_checks, actions=actions))
        )
    return reply.render()


def _hits(items: list[Question | Check], answers: list[str]) -> list[_Hit]:
    hits = []
    for index, answer in enumerate(answers):
        for item in items:
            for confirmation in item.confirms:
                if any(phrase_found(answer, phrase) for phrase in confirmation.phrases):
                    hits.append(_Hit(item=item, confirmation=confirmation, answer_index=index))
    return hits


def _yes_hits(
    latest: str, latest_index: int, open_before: list[Question | Check], hits: list[_Hit]
) -> list[_Hit]:
    # A bare "yes" can only answer a question when exactly one is still open.
    open_questions = [item for item in open_before if isinstance(item, Question)]
    if len(open_questions) != 1 or not _YES_RE.match(latest):
        return []
    question = open_questions[0]
    if any(hit.item == question and hit.answer_index == latest_index for hit in hits):
        return []
    return [_Hit(item=question, confirmation=question.confirms[0], answer_index=latest_index)]


def _dedupe(hits: list[_Hit]) -> list[_Hit]:
    seen: set[str] = set()
    unique = []
    for hit in hits:
        if hit.confirmation.fact not in seen:
            seen.add(hit.confirmation.fact)
            unique.append(hit)
    return unique


def _open_items(items: list[Question | Check], hits: list[_Hit]) -> list[Question | Check]:
    answered = {id(hit.item) for hit in hits}
    return [item for item in items if id(item) not in answered]


def _restrict_to_session_lane(
    questions: list[Question], checks: list[Check], context: dict[str, Any]
) -> tuple[list[Question], list[Check]]:
    # Items the engineer already dismissed or promoted in the session stay gone.
    if "open_questions" in context:
        still_open = {normalize(str(text)) for text in context.get("open_questions") or []}
        questions = [question for question in questions if normalize(question.text) in still_open]
    if "open_checks" in context:
        still_open = {normalize(str(text)) for text in context.get("open_checks") or []}
        checks = [check for check in checks if normalize(check.label) in still_open]
    return questions, checks


def _previous_lane(
    items: list[Question | Check],
    open_before: list[Question | Check],
    context: dict[str, Any],
    active_fix: dict[str, Any] | None,
    fix_status: str | None,
) -> tuple[list[str], list[str], list[str]]:
    if "open_questions" in context or "open_checks" in context:
        questions = [str(text) for text in context.get("open_questions") or []]
        checks = [str(text) for text in context.get("open_checks") or []]
    else:
        questions = [item.text for item in open_before if isinstance(item, Question)]
        checks = [item.label for item in open_before if isinstance(item, Check)]
    pending = active_fix is not None and fix_status not in TERMINAL_FIX_STATUSES
    return questions, checks, [RUN_FIX_ACTION] if pending else []


def _should_suggest_fix(
    runbook: Runbook,
    answers: list[str],
    hits: list[_Hit],
    active_fix: dict[str, Any] | None,
    fix_status: str | None,
    assistant_text: str,
    latest: str,
) -> bool:
    asked = bool(_FIX_REQUEST_RE.search(latest))
    if active_fix is not None:
        # One active fix at a time; a failed one is followed by next steps, not a repeat.
        return False
    suggested_before = normalize(runbook.fix.title) in assistant_text
    if suggested_before:
        return asked
    return asked or len(answers) >= 2 or bool(hits)


_FIX_REFERENCES = (
    "the fix",
    "the script",
    "ran it",
    "ran the",
    "after running",
    "applied",
    "that did it",
    "that worked",
    "that fixed",
    "after the reboot",
    "after rebooting",
)


def _fix_was_applied(active_fix: dict[str, Any]) -> bool:
    return bool(active_fix.get("applied_at")) or active_fix.get("status") in (
        "applied_pending",
        "applied_partial",
    )


def _speaks_of_the_fix(latest: str) -> bool:
    """Before the fix is applied, "it works on her hotspot" is a diagnostic answer, not an
    outcome: only a message that refers to the fix itself proposes one."""
    return any(phrase in latest for phrase in _FIX_REFERENCES)


def _detect_outcome(latest: str) -> str | None:
    if any(phrase_found(latest, phrase) for phrase in _PARTIAL_PHRASES):
        return "applied_partial"
    if any(phrase in latest for phrase in _FAILED_PHRASES):
        return "applied_failed"
    if any(phrase_found(latest, phrase) for phrase in _SUCCESS_PHRASES):
        return "applied_success"
    return None


def _outcome_text(outcome: str, fix_title: str, runbook: Runbook) -> str:
    if outcome == "applied_success":
        return (
            f"Good news — that suggests **{fix_title}** fixed it. I've proposed marking the fix "
            "as worked; confirm it on the fix card, then preview and post the resolution note."
        )
    steps = "\n".join(f"- {step}" for step in runbook.next_steps[:3])
    if outcome == "applied_partial":
        return (
            f"Understood — **{fix_title}** only partly helped. I've proposed recording it as "
            f"partially applied. For what is still failing I'd look at:\n{steps}"
        )
    return (
        f"Understood — **{fix_title}** didn't fix it. I've proposed recording it as not "
        f"working. Next I'd look at:\n{steps}\n\nIf you're stuck, escalate the session; "
        "everything confirmed so far goes with it."
    )


def _nothing_matched_text(open_now: list[Question | Check]) -> str:
    if not open_now:
        return "I couldn't link that to anything new."
    return (
        "I couldn't link that to any of the open items. Could you answer them more directly — "
        f"for example: “{_item_text(open_now[0])}”?"
    )


def _fix_text(runbook: Runbook) -> str:
    fix = runbook.fix
    return (
        f"**Likely cause:** {runbook.root_cause}\n\n"
        f"I've drafted a fix: **{fix.title}** ({fix.confidence}% confidence). "
        f"{fix.description} Review the parameters on the fix card before running it, then tell "
        "me whether it worked."
    )


def _lane_payload(
    questions: Sequence[Question], checks: Sequence[Check], *, actions: list[str]
) -> dict[str, Any]:
    return {
        "questions": [{"text": question.text} for question in questions],
        "checks": [{"label": check.label, "command": check.command} for check in checks],
        "actions": [{"label": label} for label in actions],
    }


def _item_text(item: Question | Check) -> str:
    return item.text if isinstance(item, Question) else item.label


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
