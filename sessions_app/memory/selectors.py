"""
Reads of institutional memory: similar resolved sessions, search, and the context the
assistant gets. One account at a time, always.

A query runs in three steps whichever engine is behind it:

1. its keywords are looked up in the account's lexicon (document counts → idf); an unknown word
   is replaced by the closest known one (trigram similarity) so typos still find things;
2. the engine returns the best candidates for those words (``ts_rank_cd`` or ``bm25``);
3. the candidates are ranked by the shared scorer below: idf of each word found, times the
   weight of the field it was found in (problem > fix > facts > note > the rest). It ignores word
   order and decides the final order identically on PostgreSQL and SQLite.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import Subquery, Value

from flowpilot.errors import NotFound
from sessions_app.memory import text
from sessions_app.memory.backends import Mode, engine
from sessions_app.memory.indexing import remembered_fix
from sessions_app.memory.redaction import redact_parameters, redact_script
from sessions_app.memory_models import DOCS_TERM, SessionSearchDocument, SessionSearchTerm
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    FixStatus,
    SessionStatus,
    StepRole,
    SuggestedFix,
)

FIELD_WEIGHTS = (
    ("problem", 3.0),
    ("fix_text", 2.0),
    ("facts_text", 1.5),
    ("note_text", 1.0),
    ("other_text", 0.5),
)
MAX_FIELD_WEIGHT = FIELD_WEIGHTS[0][1]
# A session whose fix worked is the better memory when two match equally well.
WORKED_BONUS = 0.03
SIMILAR_LIMIT = 5
SIMILAR_TERMS = 12
SIMILAR_CANDIDATES = 60
SIMILAR_MIN_SCORE = 0.12
# The words a similar-sessions query looks documents up by: the most distinctive few. A word in
# more than COMMON_SHARE of the account's documents ("monday", "password") still counts in the
# ranking but finds no candidates by itself (below COMMON_FLOOR documents no word is common).
RETRIEVAL_TERMS = 8
COMMON_SHARE = 0.02
COMMON_FLOOR = 50
SEARCH_CANDIDATES = 200
MIN_CORRECTABLE = 4
QUERY_WORDS = 32

DISPLAY_FIELDS = (
    "id",
    "session_id",
    "account_id",
    "problem",
    "fix_text",
    "facts_text",
    "note_text",
    "other_text",
    "outcome",
    "fix_id",
    "fix_title",
    "failed_fixes",
    "engineer_id",
    "engineer_name",
    "ticket",
    "resolved_at",
)
# The columns a candidate is fetched with, in the model's field order (what
# ``Model.from_db`` expects), and where the scorer finds its fields in such a row.
ROW_FIELDS = tuple(
    field.attname
    for field in SessionSearchDocument._meta.concrete_fields
    if field.attname in DISPLAY_FIELDS
)
_AT = {name: index for index, name in enumerate(ROW_FIELDS)}
_SCORED_AT = tuple((_AT[name], weight) for name, weight in FIELD_WEIGHTS)


@dataclass(frozen=True)
class PreparedQuery:
    """A query's usable words (typos corrected, unknown words dropped) and their idf."""

    words: list[str]
    terms: list[str]
    corrections: dict[str, str]
    idf: dict[str, float]
    patterns: dict[str, re.Pattern[str]] = field(repr=False)
    # How many documents use each term, and how many the account has.
    counts: dict[str, int] = field(default_factory=dict, repr=False)
    total: int = 0

    @property
    def empty(self) -> bool:
        return not self.terms


@dataclass(frozen=True)
class Match:
    document: SessionSearchDocument
    score: float
    why: list[str]

    @classmethod
    def from_row(cls, row: tuple[Any, ...], score: float, why: list[str], db: str) -> Match:
        """A match of a candidate row (``ROW_FIELDS``), its document built only now."""
        return cls(
            document=SessionSearchDocument.from_db(db, ROW_FIELDS, row), score=score, why=why
        )

    @property
    def session_id(self) -> int:
        return self.document.session_id

    @property
    def worked(self) -> bool:
        return self.document.outcome == FixStatus.APPLIED_SUCCESS

    def as_dict(self) -> dict[str, Any]:
        doc = self.document
        return {
            "session_id": doc.session_id,
            "problem": doc.problem.split("\n", 1)[0],
            "outcome": doc.outcome or None,
            "fix_title": doc.fix_title or None,
            "resolved_by": {"id": doc.engineer_id, "name": doc.engineer_name}
            if doc.engineer_id
            else None,
            "resolved_at": doc.resolved_at.isoformat(),
            "score": round(self.score, 3),
            "why": self.why,
            "ticket": doc.ticket or None,
            "failed_fixes": [
                {"title": item.get("title", ""), "reason": item.get("reason", "")}
                for item in doc.failed_fixes or []
            ],
        }


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def prepare_query(
    account_id: int, query_text: str, *, max_terms: int | None = None
) -> PreparedQuery:
    words = _unique(text.keywords(query_text))[:QUERY_WORDS]
    if not words:
        return PreparedQuery(words=[], terms=[], corrections={}, idf={}, patterns={})
    counts = dict(
        SessionSearchTerm.objects.filter(
            account_id=account_id, term__in=[*words, DOCS_TERM]
        ).values_list("term", "doc_count")
    )
    total = counts.pop(DOCS_TERM, 0)
    if not total:
        return PreparedQuery(words=words, terms=[], corrections={}, idf={}, patterns={})
    # Only words are corrected: "ws004711" or "482" is an identifier, not a typo of a neighbour.
    unknown = [
        word
        for word in words
        if word not in counts and len(word) >= MIN_CORRECTABLE and word.isalpha()
    ]
    # The corrections come with their document counts (no second lexicon query).
    corrected = engine().corrections(account_id, unknown) if unknown else {}
    corrections = {word: term for word, (term, _) in corrected.items()}
    counts.update(corrected.values())
    terms = _unique(
        [
            word if word in counts else corrections[word]
            for word in words
            if word in counts or word in corrections
        ]
    )
    terms = [term for term in terms if counts.get(term, 0) > 0]
    # "prompt" and "prompts" are one word to the scorer (one pattern matches both): keep one.
    by_stem: dict[str, str] = {}
    for term in terms:
        by_stem.setdefault(text.stem(term), term)
    terms = list(by_stem.values())
    idf = {term: math.log(1 + total / counts[term]) for term in terms}
    if max_terms is not None and len(terms) > max_terms:
        # The most distinctive words say most about a problem ("ost", "dpd"); common ones
        # ("outlook", "email") would pull in half the index.
        keep = set(sorted(terms, key=lambda term: (-idf[term], term))[:max_terms])
        terms = [term for term in terms if term in keep]
        idf = {term: idf[term] for term in terms}
    patterns = {
        term: re.compile(
            r"(?<![a-z0-9])" + re.escape(text.stem(term)) + r"[a-z0-9]{0,4}(?![a-z0-9])"
        )
        for term in terms
    }
    return PreparedQuery(
        words=words,
        terms=terms,
        corrections=corrections,
        idf=idf,
        patterns=patterns,
        counts={term: counts[term] for term in terms},
        total=total,
    )


def retrieval_terms(query: PreparedQuery) -> list[str]:
    """
    The words similar sessions are looked up by: the distinctive ones (at most
    ``RETRIEVAL_TERMS``, rarest first), or the three rarest when fewer are distinctive. A word
    half the index uses would make the engine rank tens of thousands of documents.
    """
    rarest = sorted(query.terms, key=lambda term: (query.counts[term], term))
    ceiling = max(COMMON_SHARE * query.total, COMMON_FLOOR)
    distinctive = [term for term in rarest if query.counts[term] <= ceiling]
    return (distinctive if len(distinctive) >= 3 else rarest[:3])[:RETRIEVAL_TERMS]


def score_row(row: tuple[Any, ...], query: PreparedQuery) -> tuple[float, list[str]]:
    """
    A candidate's score and the terms it matched, best first: each term counts its idf times
    the weight of the first field (in weight order) that has one of its forms.
    """
    total = sum(query.idf.values()) * MAX_FIELD_WEIGHT
    lowered: dict[int, str] = {}
    contributions: list[tuple[float, str]] = []
    for term in query.terms:
        search = query.patterns[term].search
        for index, weight in _SCORED_AT:
            value = lowered.get(index)
            if value is None:
                value = lowered[index] = row[index].lower()
            if search(value):
                contributions.append((query.idf[term] * weight, term))
                break
    score = sum(value for value, _ in contributions) / total if total else 0.0
    if contributions and row[_AT["outcome"]] == FixStatus.APPLIED_SUCCESS:
        score += WORKED_BONUS
    contributions.sort(key=lambda item: (-item[0], item[1]))
    return min(score, 1.0), [term for _, term in contributions]


class Scored(NamedTuple):
    score: float
    why: list[str]
    row: tuple[Any, ...]


@dataclass(frozen=True)
class Ranked:
    """Scored candidates, best first; their documents are built only for the ones shown."""

    rows: list[Scored]
    db: str

    def __len__(self) -> int:
        return len(self.rows)

    def matches(self, start: int = 0, stop: int | None = None) -> list[Match]:
        return [
            Match.from_row(row, score, why, self.db) for score, why, row in self.rows[start:stop]
        ]


def _rank(rows: list[tuple[Any, ...]], query: PreparedQuery, db: str) -> Ranked:
    resolved_at, pk = _AT["resolved_at"], _AT["id"]
    scored = [Scored(*score_row(row, query), row) for row in rows]
    scored.sort(key=lambda item: (-item.score, -item.row[resolved_at].timestamp(), -item.row[pk]))
    return Ranked(rows=[item for item in scored if item.why], db=db)


def _base(account_id: int) -> Any:
    return SessionSearchDocument.objects.filter(account_id=account_id).only(*DISPLAY_FIELDS)


def ranked_matches(
    account_id: int,
    query: PreparedQuery,
    *,
    mode: Mode,
    candidates: int,
    queryset: Any = None,
) -> Ranked:
    base = queryset if queryset is not None else _base(account_id)
    if query.empty:
        return Ranked(rows=[], db=base.db)
    search = engine().candidates
    if mode == "pairs":
        found = search(
            base,
            retrieval_terms(query),
            mode,
            candidates,
            fields=ROW_FIELDS,
            rank_words=query.terms,
        )
    else:
        found = search(base, query.terms, mode, candidates, fields=ROW_FIELDS)
    if not found and mode == "all" and len(query.terms) > 1:
        # No document has every word: those with any of the distinctive ones.
        found = search(
            base,
            retrieval_terms(query),
            "any",
            candidates,
            fields=ROW_FIELDS,
            rank_words=query.terms,
        )
    return _rank(found, query, base.db)


# --- similar sessions ------------------------------------------------------------------------


def session_text(problem: str, first_message: str, facts: list[str]) -> str:
    return "\n".join([problem, first_message, *facts])


def similar_to_text(
    account_id: int,
    query_text: str,
    *,
    exclude_session_id: int | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Match]:
    """Resolved sessions of the account most like the text, best first, never the session itself."""
    query = prepare_query(account_id, query_text, max_terms=SIMILAR_TERMS)
    base = _base(account_id)
    if exclude_session_id is not None:
        base = base.exclude(session_id=exclude_session_id)
    # One shared word ("change") is not a similar problem when the session says more: with
    # three words or more, a candidate shares at least two of the distinctive ones.
    ranked = ranked_matches(
        account_id, query, mode="pairs", candidates=SIMILAR_CANDIDATES, queryset=base
    )
    needed = 2 if len(query.terms) > 2 else 1
    ranked = Ranked(
        rows=[
            item
            for item in ranked.rows
            if item.score >= SIMILAR_MIN_SCORE and len(item.why) >= needed
        ],
        db=ranked.db,
    )
    return ranked.matches(0, limit)


# --- search ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    outcome: str = ""
    engineer_id: int | None = None
    ticket: str = ""
    resolved_from: datetime | None = None
    resolved_to: datetime | None = None

    def apply(self, queryset: Any) -> Any:
        if self.outcome == "none":
            queryset = queryset.filter(outcome="")
        elif self.outcome:
            queryset = queryset.filter(outcome=self.outcome)
        if self.engineer_id is not None:
            queryset = queryset.filter(engineer_id=self.engineer_id)
        if self.ticket:
            queryset = queryset.filter(ticket=self.ticket)
        if self.resolved_from is not None:
            queryset = queryset.filter(resolved_at__gte=self.resolved_from)
        if self.resolved_to is not None:
            queryset = queryset.filter(resolved_at__lt=self.resolved_to)
        return queryset


@dataclass(frozen=True)
class SearchPage:
    matches: list[Match]
    next_cursor: str | None
    query: PreparedQuery | None


def search(
    account_id: int,
    query_text: str,
    *,
    filters: SearchFilters,
    cursor: dict[str, Any] | None = None,
    page_size: int = 20,
) -> SearchPage:
    """
    One page of results. With words: relevance order over the best ``SEARCH_CANDIDATES``
    matches, the cursor an offset in that order. Without: newest resolved first, the cursor a
    (resolved_at, id) keyset, so pages stay stable while sessions keep resolving.
    """
    base = filters.apply(_base(account_id))
    cursor = cursor or {}
    if text.keywords(query_text):
        query = prepare_query(account_id, query_text)
        ranked = ranked_matches(
            account_id, query, mode="all", candidates=SEARCH_CANDIDATES, queryset=base
        )
        offset = int(cursor.get("o", 0))
        page = ranked.matches(offset, offset + page_size)
        more = offset + page_size < len(ranked)
        return SearchPage(
            matches=page, next_cursor=f"o:{offset + page_size}" if more else None, query=query
        )
    if "t" in cursor:
        from django.db.models import Q

        after = datetime.fromisoformat(str(cursor["t"]))
        base = base.filter(Q(resolved_at__lt=after) | Q(resolved_at=after, id__lt=int(cursor["i"])))
    rows = list(base.order_by("-resolved_at", "-id")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = f"t:{rows[-1].resolved_at.isoformat()}|{rows[-1].pk}" if more and rows else None
    return SearchPage(
        matches=[Match(document=row, score=0.0, why=[]) for row in rows],
        next_cursor=next_cursor,
        query=None,
    )


def parse_cursor(raw: str) -> dict[str, Any]:
    """``o:40`` or ``t:<iso>|<id>`` → its parts; anything else raises ValueError."""
    if not raw:
        return {}
    kind, _, value = raw.partition(":")
    if kind == "o" and value.isdigit():
        return {"o": int(value)}
    if kind == "t":
        stamp, _, ident = value.rpartition("|")
        datetime.fromisoformat(stamp)
        return {"t": stamp, "i": int(ident)}
    raise ValueError(raw)


def first_message_and_facts(session: AISession) -> tuple[str, list[str]]:
    """
    The session's first message and its live facts, oldest first, in one query. The first
    message is picked by a scalar subquery, not a LIMIT on a member of the UNION: SQLite (the
    demo) refuses LIMIT and ORDER BY in a compound statement's members.
    """
    first_step = (
        AISessionStep.objects.filter(session=session, role=StepRole.USER)
        .order_by("pk")
        .values("pk")[:1]
    )
    first = (
        AISessionStep.objects.filter(pk=Subquery(first_step))
        .order_by()
        .annotate(kind=Value(0))
        .values_list("created_at", "id", "content", "kind")
    )
    facts = (
        Fact.objects.live_in(session)
        .order_by()
        .annotate(kind=Value(1))
        .values_list("created_at", "id", "text", "kind")
    )
    rows = list(first.union(facts, all=True).order_by("kind", "created_at", "id"))
    first_message = next((content for *_, content, kind in rows if kind == 0), "")
    return first_message, [content for *_, content, kind in rows if kind == 1]


def similar_for_session(
    session: AISession,
    *,
    facts: list[str] | None = None,
    first_message: str | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Match]:
    """
    "Solved before" for a session: its problem, first message and live facts as the query.
    Callers that already hold the facts or the first message pass them in (no extra query).
    """
    if facts is None and first_message is None:
        first_message, facts = first_message_and_facts(session)
    if facts is None:
        facts = list(Fact.objects.live_in(session).values_list("text", flat=True))
    if first_message is None:
        first_message = (
            AISessionStep.objects.filter(session=session, role=StepRole.USER)
            .order_by("pk")
            .values_list("content", flat=True)
            .first()
        ) or ""
    return similar_to_text(
        session.account_id,
        session_text(session.problem_summary, first_message, facts),
        exclude_session_id=session.pk,
        limit=limit,
    )


@dataclass(frozen=True)
class PastSessionView:
    """One past session opened from "Solved before": its note and its fix, secrets redacted."""

    session: AISession
    document: SessionSearchDocument | None
    fix: SuggestedFix | None
    script: str
    parameters: list[dict[str, Any]]

    @property
    def reusable(self) -> bool:
        return self.fix is not None and self.fix.status in (
            FixStatus.APPLIED_SUCCESS,
            FixStatus.APPLIED_PARTIAL,
        )


def past_session(account_id: int, session_id: object) -> PastSessionView:
    """A resolved session of the account (another account's, or an open one: NotFound)."""
    try:
        source = AISession.objects.select_related("user", "escalated_to").get(
            pk=int(str(session_id)), account_id=account_id, status=SessionStatus.RESOLVED
        )
    except (AISession.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such resolved session.") from exc
    fix = remembered_fix(SuggestedFix.objects.filter(session=source))
    document = SessionSearchDocument.objects.filter(session=source).first()
    return PastSessionView(
        session=source,
        document=document,
        fix=fix,
        script=redact_script(fix.script, fix.parameters) if fix is not None else "",
        parameters=redact_parameters(fix.parameters) if fix is not None else [],
    )


def engineers_with_history(account_id: int) -> list[tuple[int, str]]:
    """The engineers who resolved indexed sessions, for the search filter (one query)."""
    rows = (
        SessionSearchDocument.objects.filter(account_id=account_id, engineer_id__isnull=False)
        .values_list("engineer_id", "engineer_name")
        .distinct()
        .order_by("engineer_name", "engineer_id")
    )
    return [(int(pk), name) for pk, name in rows]
