"""Play engineer dialogues against a chat provider the way the sessions app would, and score
them: the dialogue test set (``dialogues/*.yaml``), its figures and the transcripts.

``SessionPlayer`` keeps what the product keeps between turns (messages, What we know, the
open lane, the active fix) and applies each reply's markers like the chat service does:
``[TASKS]`` replaces the open lane, ``[PROMOTE]`` adds a fact and closes the item it names,
``[SUGGEST_FIX]`` makes the active fix, ``[FIX_OUTCOME]`` is confirmed on the fix card unless
the dialogue says otherwise.

A dialogue file holds ``id``, ``family``, ``problem``, ``turns`` and ``expect``. Each turn has
``say`` and optionally ``apply`` (the fix is applied before the message), ``understood`` (fact
fragments that must be promoted this turn), ``closes`` (lane items that must close), ``never``
(fragments that must not be in What we know afterwards), ``outcome`` (the FIX_OUTCOME
expected), ``confirm`` (false: leave the outcome unconfirmed) and ``recurs`` (the problem came
back after a fix that worked: the next cause must follow). ``expect`` holds ``runbook``
(where the dialogue must end), ``cause`` (the leading cause the final fix or remedy is for) and
``recovery`` (true when a failed fix must be followed by a different cause).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from flowpilot.llm.markers import ParsedReply, parse_markers
from flowpilot.llm.offline.knowledge import Cause, Runbook, load_runbooks, normalize
from flowpilot.llm.offline.language import raw_tokens
from flowpilot.llm.types import LLMClient, LLMRequest, Message

DIALOGUES_DIR = Path(__file__).resolve().parent / "dialogues"
_QUOTED_RE = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")


@dataclass
class Turn:
    say: str
    apply: bool = False
    understood: tuple[str, ...] = ()
    closes: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    outcome: str | None = None
    confirm: bool = True
    recurs: bool = False


@dataclass
class Dialogue:
    id: str
    family: str
    problem: str
    turns: list[Turn]
    runbook: str
    cause: str
    recovery: bool = False
    status_after_success: str = ""


@dataclass
class TurnRecord:
    say: str
    reply: ParsedReply
    promoted: list[str]
    closed: list[str]


class SessionPlayer:
    """Plays the sessions app around a chat provider."""

    def __init__(self, client: LLMClient, problem: str, *, system: str = "") -> None:
        self.client = client
        self.problem = problem
        self.system = system
        self.messages: list[Message] = []
        self.facts: list[str] = []
        self.questions: list[str] = []
        self.checks: list[str] = []
        self.active_fix: dict[str, Any] | None = None
        self.fix_history: list[dict[str, Any]] = []
        self.status = "active"
        self.said: list[str] = [problem]
        self.records: list[TurnRecord] = []

    def context(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "facts": list(self.facts),
            "open_questions": list(self.questions),
            "open_checks": list(self.checks),
            "active_fix": dict(self.active_fix) if self.active_fix else None,
            "status": self.status,
        }

    def say(self, text: str, *, apply: bool = False, confirm: bool = True) -> TurnRecord:
        if apply and self.active_fix is not None:
            self.active_fix.setdefault("applied_at", "2026-12-01T09:00:00+00:00")
        self.messages.append(Message("user", text))
        self.said.append(text)
        result = self.client.complete(
            LLMRequest(
                purpose="chat",
                tier="heavy",
                system=self.system,
                messages=list(self.messages),
                context=self.context(),
            )
        )
        reply = parse_markers(result.text)
        self.messages.append(Message("assistant", reply.display_text))
        closed: list[str] = []
        # A promotion closes its item whether or not this reply's lane still lists it (the
        # lane merge keeps removed rows, the promotion marks them done).
        known_items = {*self.questions, *self.checks}
        if reply.tasks is not None:
            self.questions = [question.text for question in reply.tasks.questions]
            self.checks = [check.label for check in reply.tasks.checks]
            known_items |= {*self.questions, *self.checks}
        promoted = []
        for promotion in reply.promotions:
            if promotion.text in self.facts:
                continue
            self.facts.append(promotion.text)
            promoted.append(promotion.text)
            if promotion.ref in known_items:
                closed.append(promotion.ref)
            for lane in (self.questions, self.checks):
                if promotion.ref in lane:
                    lane.remove(promotion.ref)
        if reply.fix is not None:
            if self.active_fix is not None:
                self.fix_history.append(self.active_fix)
            self.active_fix = {"title": reply.fix.title, "status": "proposed"}
        if reply.outcome is not None and self.active_fix is not None and confirm:
            self.active_fix["status"] = reply.outcome.outcome
            self.active_fix.setdefault("applied_at", "2026-12-01T09:00:00+00:00")
        record = TurnRecord(say=text, reply=reply, promoted=promoted, closed=closed)
        self.records.append(record)
        return record


# --- the dialogue set -------------------------------------------------------------------------


@functools.cache
def load_dialogues(directory: Path = DIALOGUES_DIR) -> tuple[Dialogue, ...]:
    dialogues = []
    for path in sorted(directory.glob("*.yaml")):
        data = cast(dict[str, Any], yaml.safe_load(path.read_text(encoding="utf-8")))
        expect = cast(dict[str, Any], data["expect"])
        turns = [
            Turn(
                say=str(turn["say"]),
                apply=bool(turn.get("apply", False)),
                understood=tuple(str(text) for text in turn.get("understood") or []),
                closes=tuple(str(text) for text in turn.get("closes") or []),
                never=tuple(str(text) for text in turn.get("never") or []),
                outcome=turn.get("outcome"),
                confirm=bool(turn.get("confirm", True)),
                recurs=bool(turn.get("recurs", False)),
            )
            for turn in data["turns"]
        ]
        dialogues.append(
            Dialogue(
                id=str(data["id"]),
                family=str(data["family"]),
                problem=str(data["problem"]),
                turns=turns,
                runbook=str(expect["runbook"]),
                cause=str(expect["cause"]),
                recovery=bool(expect.get("recovery", False)),
                status_after_success=str(expect.get("status_after_success") or ""),
            )
        )
    return tuple(dialogues)


@dataclass
class DialogueResult:
    dialogue: Dialogue
    player: SessionPlayer
    expectations: int = 0
    understood: int = 0
    misses: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    final_cause: str = ""
    right_fix: bool = False
    recovered: bool | None = None


@dataclass
class Figures:
    results: list[DialogueResult]

    @property
    def understood(self) -> float:
        expected = sum(result.expectations for result in self.results)
        met = sum(result.understood for result in self.results)
        return 100.0 * met / expected if expected else 100.0

    @property
    def invented(self) -> int:
        return sum(len(result.invented) for result in self.results)

    @property
    def right_fix(self) -> float:
        right = sum(1 for result in self.results if result.right_fix)
        return 100.0 * right / len(self.results) if self.results else 100.0

    @property
    def recovery(self) -> float:
        cases = [result.recovered for result in self.results if result.recovered is not None]
        return 100.0 * sum(1 for case in cases if case) / len(cases) if cases else 100.0

    def summary(self) -> str:
        cases = sum(1 for result in self.results if result.recovered is not None)
        return (
            f"dialogues: {len(self.results)}, understood: {self.understood:.1f} %, "
            f"invented: {self.invented}, right fix: {self.right_fix:.1f} %, "
            f"recovery: {self.recovery:.1f} % ({cases} dialogues with a failed fix)"
        )


def play(dialogue: Dialogue, client: LLMClient, *, system: str = "") -> DialogueResult:
    player = SessionPlayer(client, dialogue.problem, system=system)
    result = DialogueResult(dialogue=dialogue, player=player)
    runbook = _runbook(dialogue.runbook)
    causes_named: list[str] = []
    failed_causes: list[str] = []
    for turn in dialogue.turns:
        record = player.say(turn.say, apply=turn.apply, confirm=turn.confirm)
        if turn.recurs and causes_named:
            # "It's broken again" after a fix that worked: its cause was not the whole story.
            failed_causes.append(causes_named[-1])
        named = cause_named(runbook, record.reply)
        if named is not None:
            causes_named.append(named.id)
        joined = "\n".join(record.promoted).lower()
        closed = [normalize(text) for text in record.closed]
        for fragment in turn.understood:
            result.expectations += 1
            if fragment.lower() in joined:
                result.understood += 1
            else:
                result.misses.append(f"{turn.say!r}: {fragment!r} not promoted")
        for fragment in turn.closes:
            result.expectations += 1
            if any(fragment.lower() in text for text in closed):
                result.understood += 1
            else:
                result.misses.append(f"{turn.say!r}: {fragment!r} not closed")
        if turn.outcome:
            result.expectations += 1
            if record.reply.outcome is not None and record.reply.outcome.outcome == turn.outcome:
                result.understood += 1
                if turn.outcome in ("applied_failed", "applied_partial") and causes_named:
                    failed_causes.append(causes_named[-1])
            else:
                result.misses.append(f"{turn.say!r}: outcome {turn.outcome} not proposed")
        facts = "\n".join(player.facts).lower()
        for fragment in turn.never:
            if fragment.lower() in facts:
                result.invented.append(f"{dialogue.id}: {fragment!r} in What we know")
        for fact in record.promoted:
            problem = unsupported(fact, player.said)
            if problem:
                result.invented.append(f"{dialogue.id}: {fact!r}: {problem}")
    result.final_cause = causes_named[-1] if causes_named else ""
    result.right_fix = result.final_cause == dialogue.cause
    if dialogue.recovery:
        after = causes_named[causes_named.index(failed_causes[0]) + 1 :] if failed_causes else []
        result.recovered = bool(failed_causes) and any(
            cause not in failed_causes for cause in after
        )
    return result


def play_all(client_factory: Any, *, system: str = "") -> Figures:
    return Figures(
        [play(dialogue, client_factory(), system=system) for dialogue in load_dialogues()]
    )


def cause_named(runbook: Runbook | None, reply: ParsedReply) -> Cause | None:
    """The cause a reply proposes: the one whose fix it suggests, or whose remedy it gives."""
    if runbook is None:
        return None
    if reply.fix is not None:
        cause = runbook.cause_for_fix_title(reply.fix.title)
        if cause is not None:
            return cause
    text = reply.display_text
    for cause in runbook.causes:
        summary = cause.summary[:1].upper() + cause.summary[1:]
        if f"**Likely cause:** {summary}" in text:
            return cause
    return None


def _runbook(runbook_id: str) -> Runbook | None:
    return next((runbook for runbook in load_runbooks() if runbook.id == runbook_id), None)


def unsupported(fact: str, said: Iterable[str]) -> str:
    """Why ``fact`` is not supported by what the engineer wrote, or "" when it is.

    A fact is supported when the words it quotes as evidence (or, for a ``Topic: words`` fact,
    the words after the topic) all occur in what the engineer wrote or pasted, and every
    option it quotes in straight or curly quotes was written by the engineer too.
    """
    words = set()
    for text in said:
        words.update(raw_tokens(text))
    evidence = ""
    if "(“" in fact:
        evidence = fact.split("(“", 1)[1].rsplit("”)", 1)[0]
    elif ": " in fact:
        # "Topic: words" and "..., as reported: words" carry the engineer's own words.
        evidence = fact.split(": ", 1)[1]
    else:
        return "names no evidence"
    missing = [token for token in raw_tokens(evidence.rstrip("…")) if token not in words]
    if evidence.endswith("…") and missing and missing[-1:] == raw_tokens(evidence)[-1:]:
        missing = missing[:-1]  # a clipped last word
    if missing:
        return f"evidence words {missing} were never written"
    for option in _QUOTED_RE.findall(fact.split("(“", 1)[0]):
        if not set(raw_tokens(option)) <= words:
            return f"quotes {option!r}, which the engineer never wrote"
    return ""
