"""The answer matcher: which open questions and checks of a runbook an engineer's message
answers, with the words that answer each, and which shared signals it carries.

A message is read clause by clause (``language.split_clauses``); a clause answers a
confirmation when one of its ``when`` phrases is found un-negated, one of its ``when_not``
phrases is found negated, or the clause carries one of its ``signals``. Misspelt words are
folded onto the runbook's own words with rapidfuzz before matching. Readings are cached per
(runbook, message), so a long session re-reads only its newest message.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from flowpilot.llm.offline.knowledge import Check, Confirmation, Question, Runbook, terms
from flowpilot.llm.offline.language import (
    FILLER,
    NEGATORS,
    SignalHit,
    clause_signals,
    find_phrase,
    split_clauses,
)

FUZZY_CUTOFF = 87.0
FUZZY_MIN_LENGTH = 4


@dataclass(frozen=True)
class Finding:
    """One confirmation established by one clause of a message (``clause``: the engineer's
    words, as typed or as a flattened output row)."""

    item: Question | Check
    confirmation: Confirmation
    clause: str
    by_signal: bool = False


@dataclass(frozen=True)
class Reading:
    findings: tuple[Finding, ...]
    signals: tuple[SignalHit, ...]
    unmatched: tuple[str, ...]

    @property
    def evidence(self) -> frozenset[str]:
        """Evidence names for the cause ranking. A signal a finding already stands for ("all
        12 users" closing the scope question) counts once, as that finding."""
        names: set[str] = set()
        taken: set[tuple[str, str]] = set()
        for finding in self.findings:
            if finding.confirmation.id:
                names.add(finding.confirmation.id)
            taken.update((finding.clause, name) for name in finding.confirmation.signals)
        names.update(hit.name for hit in self.signals if (hit.clause, hit.name) not in taken)
        return frozenset(names)


_CACHE_LIMIT = 8192
_cache: dict[tuple[int, str], Reading] = {}


def read_message(runbook: Runbook, text: str) -> Reading:
    """What ``text`` tells about ``runbook``'s items (cached per runbook object and text)."""
    key = (id(runbook), text)
    reading = _cache.get(key)
    if reading is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        reading = _cache[key] = _read(runbook, text)
    return reading


def _read(runbook: Runbook, text: str) -> Reading:
    findings: list[Finding] = []
    signals: list[SignalHit] = []
    unmatched: list[str] = []
    for clause in split_clauses(text):
        tokens = _canonical(runbook, runbook.vocabulary.tokens(clause))
        hits = clause_signals(clause)
        signals.extend(hits)
        names = {hit.name for hit in hits}
        clause_findings = _clause_findings(runbook, clause, tokens, names)
        findings.extend(clause_findings)
        if not clause_findings and not hits:
            unmatched.append(clause)
    return Reading(
        findings=tuple(_latest_per_item(findings)),
        signals=tuple(signals),
        unmatched=tuple(unmatched),
    )


@dataclass(frozen=True)
class _Entry:
    item: Question | Check
    confirmation: Confirmation
    pattern: tuple[str, ...]
    negated: bool  # a ``when_not`` phrase: it establishes the confirmation when negated


_Index = tuple[dict[str, list[_Entry]], dict[str, list[_Entry]]]
_indexes: dict[int, _Index] = {}


def _index_of(runbook: Runbook) -> _Index:
    """Phrases by their first content word, and signal-bearing confirmations by signal, so a
    clause is only tested against the phrases that can occur in it."""
    cached = _indexes.get(id(runbook))
    if cached is not None:
        return cached
    by_word: dict[str, list[_Entry]] = {}
    by_signal: dict[str, list[_Entry]] = {}
    for item in runbook.items:
        for confirmation in item.confirms:
            for patterns, negated in (
                (confirmation.patterns, False),
                (confirmation.negated_patterns, True),
            ):
                for pattern in patterns:
                    if not pattern:
                        continue
                    content = [word for word in pattern if word not in FILLER] or list(pattern)
                    entry = _Entry(item, confirmation, pattern, negated)
                    by_word.setdefault(content[0], []).append(entry)
            for signal in confirmation.signals:
                by_signal.setdefault(signal, []).append(_Entry(item, confirmation, (), False))
    _indexes[id(runbook)] = (by_word, by_signal)
    return by_word, by_signal


def _clause_findings(
    runbook: Runbook, clause: str, tokens: tuple[str, ...], signal_names: set[str]
) -> list[Finding]:
    """Per item, the strongest confirmation the clause establishes: a longer phrase beats a
    shorter one, any phrase beats a bare signal, and echoing the engineer's words is the
    fallback when nothing specific fits; ties go to the confirmation listed first."""
    by_word, by_signal = _index_of(runbook)
    strengths: dict[tuple[int, int], int] = {}
    for word in set(tokens):
        for entry in by_word.get(word, ()):
            present, negated = find_phrase(tokens, entry.pattern)
            if present and negated == entry.negated:
                key = (id(entry.item), id(entry.confirmation))
                strengths[key] = max(strengths.get(key, 0), _weight(entry.pattern))
    for name in signal_names:
        for entry in by_signal.get(name, ()):
            key = (id(entry.item), id(entry.confirmation))
            strengths.setdefault(key, 1)
    if not strengths:
        return []
    found: list[Finding] = []
    for item in runbook.items:
        best: tuple[int, Confirmation] | None = None
        for confirmation in item.confirms:
            strength = strengths.get((id(item), id(confirmation)), 0)
            if strength and confirmation.echoes_words:
                strength = 1
            if strength and (best is None or strength > best[0]):
                best = (strength, confirmation)
        if best is not None:
            found.append(
                Finding(item=item, confirmation=best[1], clause=clause, by_signal=best[0] == 1)
            )
    return found


def _weight(pattern: tuple[str, ...]) -> int:
    # Content words count double: "before login" beats "at login" for "times out before login".
    return 2 + 2 * sum(1 for word in pattern if word not in FILLER) + len(pattern)


def _latest_per_item(findings: list[Finding]) -> list[Finding]:
    # "Only her. No wait, the whole team" — a later clause about the same item wins.
    by_item: dict[int, Finding] = {}
    order: list[int] = []
    for finding in findings:
        key = id(finding.item)
        if key not in by_item:
            order.append(key)
        by_item[key] = finding
    return [by_item[key] for key in order]


_vocabularies: dict[int, tuple[frozenset[str], tuple[str, ...]]] = {}


def _vocabulary_of(runbook: Runbook) -> tuple[frozenset[str], tuple[str, ...]]:
    cached = _vocabularies.get(id(runbook))
    if cached is not None:
        return cached
    words: set[str] = set()
    for item in runbook.items:
        for confirmation in item.confirms:
            for pattern in (*confirmation.patterns, *confirmation.negated_patterns):
                words.update(pattern)
    for keyword in runbook.keywords:
        words.update(runbook.vocabulary.tokens(keyword))
    words = {word for word in words if word not in FILLER and word not in NEGATORS}
    result = frozenset(words), tuple(sorted(word for word in words if len(word) >= 4))
    _vocabularies[id(runbook)] = result
    return result


def _canonical(runbook: Runbook, tokens: tuple[str, ...]) -> tuple[str, ...]:
    known, choices = _vocabulary_of(runbook)
    return tuple(
        token
        if token in known
        or len(token) < FUZZY_MIN_LENGTH
        or token in NEGATORS
        or token in FILLER
        or not token.isalpha()
        else _closest(runbook, token, choices)
        for token in tokens
    )


_closest_cache: dict[tuple[int, str], str] = {}


def _closest(runbook: Runbook, token: str, choices: tuple[str, ...]) -> str:
    key = (id(runbook), token)
    cached = _closest_cache.get(key)
    if cached is None:
        if len(_closest_cache) >= _CACHE_LIMIT:
            _closest_cache.clear()
        match = process.extractOne(token, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        cached = _closest_cache[key] = str(match[0]) if match else token
    return cached


def item_text(item: Question | Check) -> str:
    return item.text if isinstance(item, Question) else item.label


__all__ = ["Finding", "Reading", "item_text", "read_message", "terms"]
