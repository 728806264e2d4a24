"""The runbook knowledge base: typed runbooks loaded from ``runbooks/*.yaml`` and a TF-IDF-like
matcher that picks the runbook a problem description is about.

A runbook file holds ``id``, ``title``, ``keywords``, ``summary``, ``plan`` (steps), ``questions``
(``text`` + ``confirms``), ``checks`` (``label``, ``command`` + ``confirms``), ``root_cause``,
``next_steps`` and ``fix`` (``title``, ``description``, ``confidence``, ``script`` with
``{{param}}`` placeholders, ``parameters``). Each ``confirms`` entry is a ``fact`` plus the
``when`` phrases that, found in an engineer's answer, establish it.
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

RUNBOOKS_DIR = Path(__file__).resolve().parent / "runbooks"
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


@dataclass(frozen=True)
class RunbookMatch:
    runbook: Runbook
    score: float


def normalize(text: str) -> str:
    """Lower-case text with straight apostrophes, single spaces and ``Key : value`` folded to
    ``key value`` so pasted PowerShell output matches the runbook phrases."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\s*:\s+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def stem(token: str) -> str:
    """A deliberately small suffix stripper: enough to fold plurals and -ing/-ed forms."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith("sses"):
        return token[:-2]
    if len(token) > 5 and token.endswith("ing"):
        return token[:-3]
    if len(token) > 4 and token.endswith("ed"):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


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
                # phrase ("file" in "file server") is weak on its own.
                weight = 3.0 if " " in term or single_word else 1.0
                weights[term] = max(weights.get(term, 0.0), weight)
        all_weights.append(weights)
        document_frequency.update(weights.keys())
    total = len(runbooks)
    idf = {term: math.log(1 + total / count) for term, count in document_frequency.items()}
    return _Index(runbooks=runbooks, weights=tuple(all_weights), idf=idf)


def _load_file(path: Path) -> Runbook:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunbookError(f"{path.name}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RunbookError(f"{path.name}: a runbook must be a mapping.")
    raw = cast(dict[str, Any], data)
    where = path.name
    fix_data = _mapping(raw, "fix", where)
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
    runbook = Runbook(
        id=_str(raw, "id", where),
        title=_str(raw, "title", where),
        keywords=tuple(_strings(raw, "keywords", where)),
        summary=" ".join(_str(raw, "summary", where).split()),
        plan=tuple(" ".join(step.split()) for step in _strings(raw, "plan", where)),
        questions=tuple(
            Question(text=_str(item, "text", where), confirms=_confirms(item, where))
            for item in (_as_mapping(entry, where) for entry in _seq(raw, "questions", where))
        ),
        checks=tuple(
            Check(
                label=_str(item, "label", where),
                command=_str(item, "command", where).strip(),
                confirms=_confirms(item, where),
            )
            for item in (_as_mapping(entry, where) for entry in _seq(raw, "checks", where))
        ),
        root_cause=" ".join(_str(raw, "root_cause", where).split()),
        next_steps=tuple(_strings(raw, "next_steps", where)),
        fix=fix,
    )
    if path.stem != runbook.id:
        raise RunbookError(f"{where}: the file name must match the id {runbook.id!r}.")
    if not runbook.questions or not runbook.checks:
        raise RunbookError(f"{where}: a runbook needs questions and checks.")
    return runbook


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


def _confirms(item: dict[str, Any], where: str) -> tuple[Confirmation, ...]:
    confirmations = []
    for entry in _seq(item, "confirms", where):
        mapping = _as_mapping(entry, where)
        phrases = tuple(normalize(phrase) for phrase in _strings(mapping, "when", where))
        confirmations.append(Confirmation(fact=_str(mapping, "fact", where), phrases=phrases))
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
