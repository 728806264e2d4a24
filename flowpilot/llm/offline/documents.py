"""Offline writers for fact synthesis, resolution notes, escalation packages and hand-off
assessments. Every sentence comes from the bundle passed in ``context`` (plus the runbook named
by ``runbook_hint`` or whose fix was applied); nothing is invented. A runbook's root cause is
stated as the cause only when a session fact supports it; otherwise it is labelled unconfirmed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flowpilot.llm.offline.chat import phrase_found
from flowpilot.llm.offline.knowledge import (
    Confirmation,
    Runbook,
    load_runbooks,
    normalize,
    runbook_for_fix_title,
    runbook_for_hint,
    terms,
)

GENERIC_NEXT_STEPS = (
    "Reproduce the problem with the user and capture the exact error text and time.",
    "Check the event logs on the affected device around the time of the failure.",
    "Compare with a working user or device to isolate what differs.",
    "Check recent changes (updates, policies, password or licence changes) for the account "
    "and device.",
)


# --- fact synthesis -----------------------------------------------------------------------


def synthesise_fact(context: Mapping[str, Any]) -> str:
    """One fact sentence from a question and its answer, or a check (and its output).

    Returns "" when nothing can be established: a question without an answer, or a check that
    is neither answered nor known to the runbooks.
    """
    kind = str(context.get("kind") or "")
    item = " ".join(str(context.get("item") or "").split())
    answer = " ".join(str(context.get("answer") or "").split())
    if kind not in ("question", "check") or not item:
        return ""
    confirmations = _confirmations_for(kind, item)
    if answer:
        normalized = normalize(answer)
        for confirmation in confirmations:
            if any(phrase_found(normalized, phrase) for phrase in confirmation.phrases):
                if confirmation.echoes_words:
                    return _sentence(confirmation.fact.replace("{said}", _clip(answer, 240)))
                return confirmation.fact
        subject = item.rstrip("?").rstrip(".")
        return f"{subject}: {_sentence(_clip(answer, 240))}"
    plain = [confirmation for confirmation in confirmations if not confirmation.echoes_words]
    if kind == "check" and plain:
        # A check promoted without output means it showed what it looks for.
        return plain[0].fact
    return ""


def _confirmations_for(kind: str, item: str) -> list[Confirmation]:
    wanted = normalize(item)
    for runbook in load_runbooks():
        if kind == "question":
            for question in runbook.questions:
                if normalize(question.text) == wanted:
                    return list(question.confirms)
        else:
            for check in runbook.checks:
                if normalize(check.label) == wanted:
                    return list(check.confirms)
    return []


# --- the bundle ---------------------------------------------------------------------------


class _Bundle:
    def __init__(self, context: Mapping[str, Any]) -> None:
        self.problem = " ".join(str(context.get("problem") or "").split()) or "Not recorded."
        ticket = context.get("ticket")
        self.ticket = str(ticket).strip().lstrip("#") if ticket not in (None, "") else ""
        self.facts = [
            " ".join(str(fact).split()) for fact in context.get("facts") or [] if str(fact).strip()
        ]
        fix = context.get("fix")
        self.fix: dict[str, Any] | None = dict(fix) if isinstance(fix, Mapping) else None
        # Earlier fixes with a recorded outcome, oldest first (the bundle's ``tried``).
        self.tried = [
            dict(item) for item in context.get("tried") or [] if isinstance(item, Mapping)
        ]
        runs = context.get("script_runs") or []
        self.script_runs = [run for run in runs if isinstance(run, Mapping)]
        hint = context.get("runbook_hint")
        self.runbook: Runbook | None = runbook_for_hint(str(hint)) if hint else None
        if self.runbook is None and self.fix and self.fix.get("title"):
            self.runbook = runbook_for_fix_title(str(self.fix["title"]))

    @property
    def status(self) -> str:
        if not self.fix:
            return "none"
        status = str(self.fix.get("status") or "proposed")
        if status == "proposed" and self.fix.get("applied_at"):
            return "applied_unverified"
        return status

    @property
    def fix_title(self) -> str:
        return str((self.fix or {}).get("title") or "the suggested fix")

    def field(self, name: str) -> str:
        return _fix_field(self.fix, name)

    def cause_supported(self) -> bool:
        """Whether a session fact backs the runbook's root cause (shares two of its words)."""
        if self.runbook is None:
            return False
        cause = _content_words(self.runbook.root_cause)
        return any(len(_content_words(fact) & cause) >= 2 for fact in self.facts)

    def tried_lines(self) -> list[str]:
        """One bullet per earlier fix that was tried, with its recorded outcome."""
        return [line for line in (_earlier_fix_line(fix) for fix in self.tried) if line]

    def problem_section(self) -> str:
        text = self.problem
        if self.ticket:
            text += f"\n\nPSA ticket #{self.ticket}."
        return text

    def facts_section(self, *, empty: str) -> str:
        if not self.facts:
            return empty
        return "\n".join(f"- {fact}" for fact in self.facts)

    def script_lines(self) -> list[str]:
        lines = []
        for run in self.script_runs:
            name = str(run.get("template") or "Script")
            parameters = run.get("parameters")
            if isinstance(parameters, Mapping) and parameters:
                rendered = ", ".join(f"{key}={value}" for key, value in parameters.items())
                lines.append(f"- Ran `{name}` with {rendered}.")
            else:
                lines.append(f"- Ran `{name}`.")
        return lines


def _fix_field(fix: Mapping[str, Any] | None, name: str) -> str:
    return " ".join(str((fix or {}).get(name) or "").split())


def _content_words(text: str) -> set[str]:
    """The distinctive single words of ``text`` (stemmed, no stopwords, three letters or more)."""
    return {term for term in terms(text) if " " not in term and len(term) > 2}


def _earlier_fix_line(fix: Mapping[str, Any]) -> str:
    title = _fix_field(fix, "title") or "An earlier fix"
    applied = _on(_fix_field(fix, "applied_at"))
    status = _fix_field(fix, "status")
    if status == "applied_failed":
        reason = _fix_field(fix, "failure_reason") or "no reason recorded"
        return f"- Tried **{title}**{applied}; it did not work: {_sentence(reason)}"
    if status == "applied_partial":
        notes = _fix_field(fix, "partial_notes") or "no notes recorded"
        return f"- Tried **{title}**{applied}; it partly helped: {_sentence(notes)}"
    if status == "applied_pending":
        reason = _fix_field(fix, "pending_reason") or "outcome not checked"
        return (
            f"- Applied **{title}**{applied}; replaced before it was verified "
            f"(was waiting on: {_sentence(reason)[:-1]})."
        )
    if status == "applied_success":
        verified = _on(_fix_field(fix, "verified_at"))
        return f"- Applied **{title}**{applied}; it worked{verified}."
    return ""


def _when(value: str) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    suffix = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M") + suffix


def _on(value: str) -> str:
    when = _when(value)
    return f" on {when}" if when else ""


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text if text[-1] in ".!?…" else f"{text}."


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- resolution note ----------------------------------------------------------------------


def resolution_note(context: Mapping[str, Any]) -> str:
    bundle = _Bundle(context)
    sections = [
        ("Problem", bundle.problem_section()),
        (
            "What we confirmed",
            bundle.facts_section(empty="No facts were recorded during the session."),
        ),
        ("Root cause", _note_root_cause(bundle)),
        ("Resolution", _note_resolution(bundle)),
    ]
    return _render(sections)


def _note_root_cause(bundle: _Bundle) -> str:
    status = bundle.status
    runbook_cause = bundle.runbook.root_cause if bundle.runbook else ""
    # The runbook says what usually causes this kind of problem, not what caused this one:
    # only a session fact that backs it lets the note state it as the cause.
    supported = bool(runbook_cause) and bundle.cause_supported()
    likely = f"Likely cause (not yet confirmed): {runbook_cause}" if runbook_cause else ""
    description = bundle.field("description")
    if status == "applied_success":
        if supported:
            return f"{runbook_cause} The successful fix confirms this."
        addressed = (
            f"Addressed by **{bundle.fix_title}**: {_sentence(description)}"
            if description
            else f"Addressed by **{bundle.fix_title}**; no separate root cause was recorded."
        )
        return f"{likely}\n\n{addressed}" if likely else addressed
    if status in ("applied_pending", "applied_unverified"):
        if supported:
            return f"Provisional, until the fix is verified: {runbook_cause}"
        if likely:
            return likely
        return "Provisional: not confirmed until the applied fix is verified."
    if status == "applied_partial":
        return (
            "Only partly identified: the fix helped in part, so more than one cause may be "
            "involved."
        )
    return "Not identified yet."


def _note_resolution(bundle: _Bundle) -> str:
    earlier = bundle.tried_lines()
    text = _note_current_fix(bundle, tried_before=bool(earlier))
    if not earlier:
        return text
    return "Tried before:\n" + "\n".join(earlier) + "\n\n" + text


def _note_current_fix(bundle: _Bundle, *, tried_before: bool) -> str:
    status = bundle.status
    title = bundle.fix_title
    description = _sentence(bundle.field("description"))
    scripts = bundle.script_lines()
    script_block = ("\n\nScripts run:\n" + "\n".join(scripts)) if scripts else ""
    if status == "applied_success":
        verified = _on(bundle.field("verified_at"))
        applied = _on(bundle.field("applied_at"))
        lead = f"Applied **{title}**{applied} and verified it worked{verified}."
        body = f"{lead} {description}".strip()
        return f"{body}{script_block}\n\nThe issue is resolved and the ticket can be closed."
    if status == "applied_failed":
        reason = bundle.field("failure_reason") or "no reason was recorded"
        return (
            f"Tried **{title}**{_on(bundle.field('applied_at'))}, but it did not fix the "
            f"problem: {_sentence(reason)}{script_block}\n\n"
            "No working fix yet; the problem is still open and needs further work."
        )
    if status == "applied_partial":
        notes = bundle.field("partial_notes") or "no notes were recorded"
        return (
            f"Tried **{title}**{_on(bundle.field('applied_at'))}; it only partly fixed the "
            f"problem: {_sentence(notes)}{script_block}\n\n"
            "The remaining part is still open and needs follow-up."
        )
    if status in ("applied_pending", "applied_unverified"):
        reason = bundle.field("pending_reason") or "the outcome has not been checked yet"
        return (
            f"Applied **{title}**{_on(bundle.field('applied_at'))} — pending verification: "
            f"{_sentence(reason)}{script_block}\n\n"
            "This note is provisional until the fix is verified."
        )
    if tried_before:
        runs = script_block
        # The earlier attempts above did not close it; say where the latest suggestion stands.
        if status == "dismissed":
            return f"No working fix yet; the next suggestion, **{title}**, was dismissed.{runs}"
        return f"No working fix yet. Suggested next, not yet applied: **{title}**.{runs}"
    if status == "dismissed":
        return f"No fix applied yet (the suggested fix **{title}** was dismissed).{script_block}"
    if status == "proposed":
        return f"No fix applied yet. Suggested, not yet applied: **{title}**.{script_block}"
    return f"No fix applied yet.{script_block}"


# --- escalation package -------------------------------------------------------------------


def escalation_package(context: Mapping[str, Any]) -> str:
    bundle = _Bundle(context)
    steps = _next_steps(bundle)
    sections = [
        ("Problem", bundle.problem_section()),
        (
            "What we've confirmed",
            bundle.facts_section(empty="Nothing has been confirmed yet."),
        ),
        ("What we've tried", _tried(bundle)),
        ("Current hypothesis", _hypothesis(bundle)),
        ("Suggested next steps", "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))),
    ]
    return _render(sections)


def _tried(bundle: _Bundle) -> str:
    status = bundle.status
    title = bundle.fix_title
    applied = _on(bundle.field("applied_at"))
    lines: list[str] = bundle.tried_lines()
    if lines and status in ("proposed", "dismissed"):
        verb = "dismissed" if status == "dismissed" else "not applied yet"
        lines.append(f"- Then **{title}** was suggested; {verb}.")
    elif status == "applied_success":
        lines.append(
            f"- Applied **{title}**{applied}; it worked{_on(bundle.field('verified_at'))}."
        )
    elif status == "applied_failed":
        reason = bundle.field("failure_reason") or "no reason recorded"
        lines.append(f"- Tried **{title}**{applied}; it did not work: {_sentence(reason)}")
    elif status == "applied_partial":
        notes = bundle.field("partial_notes") or "no notes recorded"
        lines.append(f"- Tried **{title}**{applied}; it partly helped: {_sentence(notes)}")
    elif status in ("applied_pending", "applied_unverified"):
        reason = bundle.field("pending_reason") or "outcome not checked yet"
        lines.append(f"- Applied **{title}**{applied}; pending verification: {_sentence(reason)}")
    elif status == "dismissed":
        lines.append(f"- No fix applied yet (**{title}** was suggested and dismissed).")
    elif status == "proposed":
        lines.append(f"- No fix applied yet (**{title}** was suggested, not applied).")
    else:
        lines.append("- No fix applied yet.")
    lines.extend(bundle.script_lines())
    return "\n".join(lines)


def _hypothesis(bundle: _Bundle) -> str:
    text = _current_hypothesis(bundle)
    failed = [
        _fix_field(fix, "title")
        for fix in bundle.tried
        if _fix_field(fix, "status") == "applied_failed" and _fix_field(fix, "title")
    ]
    if failed:
        names = ", ".join(f"**{title}**" for title in failed)
        text += (
            f" Already tried without success: {names}, so what "
            f"{'that fix targets' if len(failed) == 1 else 'those fixes target'} is probably "
            "not (the whole) cause."
        )
    return text


def _current_hypothesis(bundle: _Bundle) -> str:
    status = bundle.status
    title = bundle.fix_title
    runbook = bundle.runbook
    if status == "applied_failed":
        reason = bundle.field("failure_reason")
        because = f" ({_sentence(reason)[:-1]})" if reason else ""
        return (
            f"Still open. **{title}** did not work{because}, so the cause is probably not (only) "
            "what that fix targets. The confirmed facts above are the firm ground."
        )
    if status == "applied_partial":
        return (
            f"**{title}** addressed part of the problem, so there is likely a second cause "
            "behind what still fails."
        )
    if status == "applied_success":
        cause = runbook.root_cause if runbook else bundle.field("description")
        return (
            f"Confirmed by the working fix: {cause}" if cause else "Confirmed by the working fix."
        )
    if status in ("applied_pending", "applied_unverified"):
        cause = runbook.root_cause if runbook else ""
        return f"Provisional, pending verification of **{title}**" + (
            f": {cause}" if cause else "."
        )
    if runbook is not None:
        return f"Working theory, not yet confirmed: {runbook.root_cause}"
    return "No hypothesis confirmed yet; the facts above are the starting point."


def _next_steps(bundle: _Bundle) -> list[str]:
    status = bundle.status
    steps: list[str] = []
    if status == "applied_failed":
        reason = bundle.field("failure_reason")
        steps.append(
            f"Review why **{bundle.fix_title}** failed"
            + (f" ({_sentence(reason)[:-1]})." if reason else ".")
        )
    elif status == "applied_partial":
        notes = bundle.field("partial_notes")
        steps.append("Finish what is still failing" + (f": {_sentence(notes)}" if notes else "."))
    elif status in ("applied_pending", "applied_unverified"):
        reason = bundle.field("pending_reason")
        steps.append(
            f"Verify **{bundle.fix_title}**" + (f" once {_sentence(reason)}" if reason else ".")
        )
    elif status in ("none", "proposed", "dismissed") and bundle.runbook is not None:
        steps.append(f"Consider **{bundle.runbook.fix.title}** if the facts support it.")
    pool = list(bundle.runbook.next_steps) if bundle.runbook else []
    pool += [step for step in GENERIC_NEXT_STEPS if step not in pool]
    for step in pool:
        if len(steps) >= 5:
            break
        steps.append(step)
    return steps


# --- hand-off assessment ------------------------------------------------------------------

_EARLIER_PHRASES = {
    "applied_failed": "did not work",
    "applied_partial": "partly worked",
    "applied_pending": "replaced before it was verified",
    "applied_success": "worked",
}


def handoff_assessment(context: Mapping[str, Any]) -> str:
    bundle = _Bundle(context)
    status_phrase = {
        "none": "no fix applied yet",
        "proposed": "a fix was suggested but not applied",
        "dismissed": "the suggested fix was dismissed",
        "applied_success": f"{bundle.fix_title} worked",
        "applied_failed": f"{bundle.fix_title} was tried and did not work",
        "applied_partial": f"{bundle.fix_title} only partly worked",
        "applied_pending": f"{bundle.fix_title} is pending verification",
        "applied_unverified": f"{bundle.fix_title} was applied and awaits verification",
    }.get(bundle.status, f"fix status: {bundle.status}")
    ticket = f" (ticket #{bundle.ticket})" if bundle.ticket else ""
    facts = len(bundle.facts)
    earlier = [
        f"{_fix_field(fix, 'title')} ({_EARLIER_PHRASES.get(_fix_field(fix, 'status'), 'tried')})"
        for fix in bundle.tried
        if _fix_field(fix, "title")
    ]
    tried = f"; tried before: {', '.join(earlier)}" if earlier else ""
    summary = (
        f"{_sentence(bundle.problem)[:-1]}{ticket}. {facts} confirmed fact"
        f"{'' if facts == 1 else 's'}; {status_phrase}{tried}."
    )
    hypothesis = _hypothesis(bundle).replace("**", "")
    steps = [step.replace("**", "") for step in _next_steps(bundle)][:5]
    payload = {"summary": summary, "hypothesis": hypothesis, "suggested_steps": steps}
    return json.dumps(payload, ensure_ascii=False, indent=2)


def _render(sections: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"## {title}\n\n{body.strip()}" for title, body in sections) + "\n"
