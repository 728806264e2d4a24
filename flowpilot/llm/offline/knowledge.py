"""The runbook knowledge base: typed runbooks loaded from ``runbooks/*.yaml`` and a TF-IDF-like
matcher that picks the runbook a problem description is about.

A runbook file holds ``id``, ``title``, ``topic`` (how a reply names the problem: "the VPN
connection"), ``family``, ``keywords``, optional ``vocabulary`` (synonyms folded before
matching: ``owa: outlook web``), ``summary``, ``plan`` (steps), ``questions`` (``text`` +
``confirms``), ``checks`` (``label``, ``command`` + ``confirms``), ``root_cause``,
``next_steps``, ``fix`` (``title``, ``description``, ``confidence``, ``script`` with
``{{param}}`` placeholders, ``parameters``) and ``causes``.

Each ``confirms`` entry is a ``fact`` plus what establishes it: ``when`` phrases found in an
answer, ``when_not`` phrases found negated ("not on the hotspot either"), and ``signals``
(shared evidence such as ``scope:everyone``, see ``language.SIGNALS``). An optional ``id``
lets causes cite it, ``switch`` names the runbook the finding points to, and a fact
containing ``{said}`` is filled with the engineer's own words.

Each cause has an ``id``, a ``summary`` (prose: "the VPN gateway rejects or drops the
tunnel"), a ``prior``, the evidence ``for`` and ``against`` it (signal names or confirmation
ids), and either ``fix: main`` (the runbook's fix), its own ``fix`` block, or no fix (then its
``steps`` are the remedy). ``checks`` lists the check labels that test it.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from flowpilot.llm.markers import FixParameter
from flowpilot.llm.offline.language import GLOBAL_VOCABULARY, SIGNAL_NAMES, Vocabulary
from flowpilot.llm.offline.language import normalize as normalize
from flowpilot.llm.offline.language import stem as stem

RUNBOOKS_DIR = Path(__file__).resolve().parent / "runbooks"
# libyaml's safe loader when PyYAML has it (ten times faster: the first offline answer of a
# process loads every runbook), else the pure-Python one. Both are the safe loader.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

# Below this score a problem is "not recognised"; calibrated so one distinctive keyword in the
# problem statement is enough, while a stray shared word (file, share, connect) is not.
MATCH_THRESHOLD = 6.0


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _words(
    """a about after again all also am an and any are as at be been before being but by can
    cannot can't could did didn't do does doesn't doing don't for from get gets getting got had
    has hasn't have haven't he her hers him his how i i'm if in into is isn't it it's its just
    keep keeps me my no not now of on once only or our out over please she since so some still
    than that the their them then there these they this those to too up us very was wasn't we
    were what when where which while who why will with won't would you your yesterday today
    morning afternoon week user users customer client pc computer machine laptop desktop device
    issue issues problem problems error errors work works working worked not fail fails failing
    failed broken help new anymore unable trying try tried since anything everything nothing
    something one two three"""
)
_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9_']*")


class RunbookError(ValueError):
    """A runbook file is missing a field or is inconsistent."""


@dataclass(frozen=True)
class Confirmation:
    fact: str
    phrases: tuple[str, ...]
    id: str = ""
    negated: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    switch: str = ""
    # Canonical token forms of ``phrases`` and ``negated`` (the runbook's vocabulary applied).
    patterns: tuple[tuple[str, ...], ...] = ()
    negated_patterns: tuple[tuple[str, ...], ...] = ()

    @property
    def echoes_words(self) -> bool:
        return "{said}" in self.fact


@dataclass(frozen=True)
class Question:
    text: str
    confirms: tuple[Confirmation, ...]


@dataclass(frozen=True)
class Check:
    label: str
    command: str
    confirms: tuple[Confirmation, ...]


@dataclass(frozen=True)
class RunbookFix:
    title: str
    description: str
    confidence: int
    script: str
    parameters: tuple[FixParameter, ...]

    def as_marker_payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "confidence": self.confidence,
            "script": self.script,
            "parameters": [parameter.as_dict() for parameter in self.parameters],
        }


@dataclass(frozen=True)
class Cause:
    id: str
    summary: str
    prior: float
    supports: tuple[str, ...]
    against: tuple[str, ...]
    fix: RunbookFix | None
    checks: tuple[str, ...]
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    keywords: tuple[str, ...]
    summary: str
    plan: tuple[str, ...]
    questions: tuple[Question, ...]
    checks: tuple[Check, ...]
    root_cause: str
    next_steps: tuple[str, ...]
    fix: RunbookFix
    topic: str = ""
    family: str = ""
    causes: tuple[Cause, ...] = ()
    vocabulary: Vocabulary = GLOBAL_VOCABULARY

    @property
    def items(self) -> tuple[Question | Check, ...]:
        return (*self.questions, *self.checks)

    def cause(self, cause_id: str) -> Cause | None:
        return next((cause for cause in self.causes if cause.id == cause_id), None)

    def cause_for_fix_title(self, title: str) -> Cause | None:
        wanted = title.strip().lower()
        return next(
            (
                cause
                for cause in self.causes
                if cause.fix is not None and cause.fix.title.strip().lower() == wanted
            ),
            None,
        )


@dataclass(frozen=True)
class RunbookMatch:
    runbook: Runbook
    score: float


def tokens(text: str) -> list[str]:
    """Stemmed tokens of ``text`` (stopwords kept, so phrases can be rebuilt from them)."""
    return [stem(token.strip("'")) for token in _TOKEN_RE.findall(normalize(text))]


def terms(text: str) -> Counter[str]:
    """Unigram (non-stopword, two characters or more) and bigram term counts of ``text``."""
    words = [word for word in tokens(text) if word]
    counts: Counter[str] = Counter(
        word for word in words if len(word) > 1 and word not in _STOPWORDS
    )
    for first, second in zip(words, words[1:], strict=False):
        if first in _STOPWORDS and second in _STOPWORDS:
            continue
        counts[f"{first} {second}"] += 1
    return counts


@functools.cache
def load_runbooks(directory: Path = RUNBOOKS_DIR) -> tuple[Runbook, ...]:
    """Every runbook in ``directory``, sorted by id; invalid files raise ``RunbookError``."""
    runbooks = [_load_file(path) for path in sorted(directory.glob("*.yaml"))]
    ids = [runbook.id for runbook in runbooks]
    if len(set(ids)) != len(ids):
        raise RunbookError("Duplicate runbook ids.")
    for runbook in runbooks:
        for item in runbook.items:
            for confirmation in item.confirms:
                if confirmation.switch and confirmation.switch not in ids:
                    raise RunbookError(
                        f"{runbook.id}.yaml: switch target {confirmation.switch!r} is unknown."
                    )
    return tuple(sorted(runbooks, key=lambda runbook: runbook.id))


def runbook_by_id(runbook_id: str) -> Runbook | None:
    for runbook in load_runbooks():
        if runbook.id == runbook_id:
            return runbook
    return None


def runbook_for_hint(hint: str | None) -> Runbook | None:
    """Resolve a runbook hint given as an id, a title or a free-text description."""
    if not hint:
        return None
    for runbook in load_runbooks():
        if hint in (runbook.id, runbook.title):
            return runbook
    match = match_runbook([(hint, 1.0)])
    return match.runbook if match else None


def runbook_for_fix_title(title: str) -> Runbook | None:
    for runbook in load_runbooks():
        if runbook.fix.title.strip().lower() == title.strip().lower():
            return runbook
    for runbook in load_runbooks():
        if runbook.cause_for_fix_title(title) is not None:
            return runbook
    return None


def match_runbook(
    weighted_texts: Iterable[tuple[str, float]], *, threshold: float = MATCH_THRESHOLD
) -> RunbookMatch | None:
    """The best-scoring runbook for the texts (each with a weight), or None below threshold."""
    ranking = rank_runbooks(weighted_texts)
    if not ranking or ranking[0].score < threshold:
        return None
    return ranking[0]


def rank_runbooks(weighted_texts: Iterable[tuple[str, float]]) -> list[RunbookMatch]:
    index = _index()
    query: dict[str, float] = {}
    for text, text_weight in weighted_texts:
        for term, count in terms(text).items():
            query[term] = query.get(term, 0.0) + count * text_weight
    scores: list[RunbookMatch] = []
    for runbook, weights in zip(index.runbooks, index.weights, strict=True):
        score = 0.0
        for term, frequency in query.items():
            term_weight = weights.get(term, 0.0)
            if term_weight:
                # Repeating a word should not outvote a second distinctive word.
                score += min(frequency, 3.0) * term_weight * index.idf[term]
        scores.append(RunbookMatch(runbook=runbook, score=round(score, 3)))
    return sorted(scores, key=lambda match: (-match.score, match.runbook.id))


@dataclass(frozen=True)
class _Index:
    runbooks: tuple[Runbook, ...]
    weights: tuple[dict[str, float], ...]
    idf: dict[str, float]


@functools.cache
def _index() -> _Index:
    runbooks = load_runbooks()
    all_weights: list[dict[str, float]] = []
    document_frequency: Counter[str] = Counter()
    for runbook in runbooks:
        weights: dict[str, float] = {}
        for keyword in runbook.keywords:
            single_word = len(tokens(keyword)) == 1
            for term in terms(keyword):
                # A single-word keyword is distinctive; a word that only appears inside a
                # phrase ("file" in "file server") is weak on its own, and a bigram with a
                # stopword ("the office") says little more than its other word.
                if " " in term:
                    weight = 1.0 if any(word in _STOPWORDS for word in term.split()) else 3.0
                else:
                    weight = 3.0 if single_word else 0.5
                weights[term] = max(weights.get(term, 0.0), weight)
        all_weights.append(weights)
        document_frequency.update(weights.keys())
    total = len(runbooks)
    idf = {term: math.log(1 + total / count) for term, count in document_frequency.items()}
    return _Index(runbooks=runbooks, weights=tuple(all_weights), idf=idf)


def _load_file(path: Path) -> Runbook:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise RunbookError(f"{path.name}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RunbookError(f"{path.name}: a runbook must be a mapping.")
    raw = cast(dict[str, Any], data)
    where = path.name
    fix = _fix(_mapping(raw, "fix", where), where)
    vocabulary = _vocabulary(raw.get("vocabulary"), where)
    questions = tuple(
        Question(text=_str(item, "text", where), confirms=_confirms(item, where, vocabulary))
        for item in (_as_mapping(entry, where) for entry in _seq(raw, "questions", where))
    )
    checks = tuple(
        Check(
            label=_str(item, "label", where),
            command=_str(item, "command", where).strip(),
            confirms=_confirms(item, where, vocabulary),
        )
        for item in (_as_mapping(entry, where) for entry in _seq(raw, "checks", where))
    )
    all_items: tuple[Question | Check, ...] = (*questions, *checks)
    confirmation_ids = [
        confirmation.id for item in all_items for confirmation in item.confirms if confirmation.id
    ]
    if len(set(confirmation_ids)) != len(confirmation_ids):
        raise RunbookError(f"{where}: confirmation ids must be unique.")
    causes = tuple(
        _cause(_as_mapping(entry, where), where, fix, set(confirmation_ids), checks)
        for entry in _seq(raw, "causes", where)
    )
    if len({cause.id for cause in causes}) != len(causes):
        raise RunbookError(f"{where}: cause ids must be unique.")
    runbook = Runbook(
        id=_str(raw, "id", where),
        title=_str(raw, "title", where),
        keywords=tuple(_strings(raw, "keywords", where)),
        summary=" ".join(_str(raw, "summary", where).split()),
        plan=tuple(" ".join(step.split()) for step in _strings(raw, "plan", where)),
        questions=questions,
        checks=checks,
        root_cause=" ".join(_str(raw, "root_cause", where).split()),
        next_steps=tuple(_strings(raw, "next_steps", where)),
        fix=fix,
        topic=_str(raw, "topic", where),
        family=_str(raw, "family", where),
        causes=causes,
        vocabulary=vocabulary,
    )
    if path.stem != runbook.id:
        raise RunbookError(f"{where}: the file name must match the id {runbook.id!r}.")
    if not runbook.questions or not runbook.checks:
        raise RunbookError(f"{where}: a runbook needs questions and checks.")
    return runbook


def _fix(fix_data: dict[str, Any], where: str) -> RunbookFix:
    parameters = tuple(
        _parameter(item, f"{where} fix") for item in _seq(fix_data, "parameters", where)
    )
    fix = RunbookFix(
        title=_str(fix_data, "title", where),
        description=" ".join(_str(fix_data, "description", where).split()),
        confidence=_confidence(fix_data.get("confidence"), where),
        script=_str(fix_data, "script", where).rstrip() + "\n",
        parameters=parameters,
    )
    used = set(PLACEHOLDER_RE.findall(fix.script))
    declared = {parameter.name for parameter in parameters}
    if used != declared:
        raise RunbookError(
            f"{where}: script placeholders {sorted(used)} do not match parameters "
            f"{sorted(declared)}."
        )
    return fix


def _vocabulary(value: object, where: str) -> Vocabulary:
    if value is None:
        return GLOBAL_VOCABULARY
    mapping = _as_mapping(value, f"{where} vocabulary")
    if not all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in mapping.items()):
        raise RunbookError(f"{where}: vocabulary maps words to words.")
    return GLOBAL_VOCABULARY.extended(mapping)


def _cause(
    data: dict[str, Any],
    where: str,
    main_fix: RunbookFix,
    confirmation_ids: set[str],
    checks: tuple[Check, ...],
) -> Cause:
    cause_id = _str(data, "id", where)
    where = f"{where} cause {cause_id!r}"
    evidence: dict[str, tuple[str, ...]] = {}
    for key in ("for", "against"):
        values = data.get(key) or []
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise RunbookError(f"{where}: {key!r} must be a list of evidence names.")
        unknown = [v for v in values if v not in SIGNAL_NAMES and v not in confirmation_ids]
        if unknown:
            raise RunbookError(f"{where}: unknown evidence {unknown} in {key!r}.")
        evidence[key] = tuple(values)
    if not evidence["for"]:
        raise RunbookError(f"{where}: a cause needs evidence for it.")
    raw_fix = data.get("fix")
    fix: RunbookFix | None
    if raw_fix == "main":
        fix = main_fix
    elif raw_fix is None:
        fix = None
    else:
        fix = _fix(_as_mapping(raw_fix, where), where)
    labels = {check.label for check in checks}
    cause_checks = tuple(str(label) for label in data.get("checks") or [])
    if not set(cause_checks) <= labels:
        raise RunbookError(f"{where}: checks {sorted(set(cause_checks) - labels)} do not exist.")
    steps = tuple(" ".join(str(step).split()) for step in data.get("steps") or [])
    if fix is None and not steps:
        raise RunbookError(f"{where}: a cause without a fix needs steps.")
    prior = data.get("prior", 1.0)
    if isinstance(prior, bool) or not isinstance(prior, int | float) or not 0 < prior <= 5:
        raise RunbookError(f"{where}: prior must be a number in (0, 5].")
    return Cause(
        id=cause_id,
        summary=" ".join(_str(data, "summary", where).split()),
        prior=float(prior),
        supports=evidence["for"],
        against=evidence["against"],
        fix=fix,
        checks=cause_checks,
        steps=steps,
    )


def _as_mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RunbookError(f"{where}: expected a mapping, got {value!r}.")
    return cast(dict[str, Any], value)


def _mapping(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    return _as_mapping(data.get(key), f"{where} {key}")


def _seq(data: dict[str, Any], key: str, where: str) -> Sequence[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise RunbookError(f"{where}: {key!r} must be a non-empty list.")
    return value


def _str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RunbookError(f"{where}: {key!r} must be a non-empty string.")
    return value.strip() if key != "script" else value


def _strings(data: dict[str, Any], key: str, where: str) -> list[str]:
    values = _seq(data, key, where)
    if not all(isinstance(value, str) and value.strip() for value in values):
        raise RunbookError(f"{where}: every entry of {key!r} must be a non-empty string.")
    return [str(value).strip() for value in values]


def _confirms(item: dict[str, Any], where: str, vocabulary: Vocabulary) -> tuple[Confirmation, ...]:
    confirmations = []
    for entry in _seq(item, "confirms", where):
        mapping = _as_mapping(entry, where)
        when = [str(p) for p in mapping.get("when") or []]
        when_not = [str(p) for p in mapping.get("when_not") or []]
        signals = [str(s) for s in mapping.get("signals") or []]
        if not (when or when_not or signals):
            raise RunbookError(f"{where}: a confirmation needs 'when', 'when_not' or 'signals'.")
        unknown = sorted(set(signals) - SIGNAL_NAMES)
        if unknown:
            raise RunbookError(f"{where}: unknown signals {unknown}.")
        fact = _str(mapping, "fact", where)
        confirmations.append(
            Confirmation(
                fact=fact,
                phrases=tuple(normalize(phrase) for phrase in when),
                id=str(mapping.get("id") or ""),
                negated=tuple(normalize(phrase) for phrase in when_not),
                signals=tuple(signals),
                switch=str(mapping.get("switch") or ""),
                patterns=tuple(vocabulary.tokens(phrase) for phrase in when),
                negated_patterns=tuple(vocabulary.tokens(phrase) for phrase in when_not),
            )
        )
    return tuple(confirmations)


def _parameter(item: object, where: str) -> FixParameter:
    data = _as_mapping(item, where)
    name = _str(data, "name", where)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise RunbookError(f"{where}: parameter names are snake_case, not {name!r}.")
    default = data.get("default")
    if default is not None and not isinstance(default, str | int | float | bool):
        raise RunbookError(f"{where}: parameter {name!r} has a non-scalar default.")
    required = data.get("required", True)
    sensitive = data.get("sensitive", False)
    if not isinstance(required, bool) or not isinstance(sensitive, bool):
        raise RunbookError(f"{where}: 'required' and 'sensitive' must be booleans.")
    return FixParameter(
        name=name,
        type=str(data.get("type") or "string"),
        required=required,
        default=default,
        sensitive=sensitive,
        description=_str(data, "description", where),
    )


def _confidence(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise RunbookError(f"{where}: fix confidence must be an integer 0-100.")
    return value
