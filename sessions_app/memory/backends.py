"""
The two engines behind one interface: PostgreSQL (weighted ``tsvector`` + GIN,
``websearch_to_tsquery``, ``ts_rank_cd``; ``pg_trgm`` for misspelled words) and SQLite (FTS5
with ``bm25``; the same trigram similarity computed in Python over the account's words).

An engine does two things: correct unknown words against the account's vocabulary, and return
the best candidate documents for a set of words. The final order is decided by the shared
ranking in ``selectors`` so both engines answer the same first hit. Moving to a dedicated
engine (OpenSearch, say) means one more class here that answers these two calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length

from sessions_app.memory import text
from sessions_app.memory_models import SessionSearchDocument, SessionSearchTerm

# Which documents are candidates: those with every word ("all"), any word ("any"), or at least
# two of the words ("pairs": any two of them together, which the GIN index answers from the
# words' posting lists without reading the documents that share only one common word).
Mode = Literal["all", "any", "pairs"]
# pg_trgm's default similarity threshold (the ``%`` operator).
TRIGRAM_THRESHOLD = 0.3
# The most matches PostgreSQL ranks for one query (see ``PostgresEngine.candidates``).
RANK_CAP = 1000
DOC = SessionSearchDocument._meta.db_table
TERM = SessionSearchTerm._meta.db_table
FTS = "sessions_app_search_fts"


class Engine(Protocol):
    def corrections(self, account_id: int, words: list[str]) -> dict[str, tuple[str, int]]:
        """Each word's closest known word (trigram similarity) with its document count."""
        ...

    def candidates(
        self,
        queryset: QuerySet[SessionSearchDocument],
        words: list[str],
        mode: Mode,
        limit: int,
        *,
        fields: Sequence[str],
        rank_words: list[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        """
        The ``limit`` best documents of ``queryset`` that match ``words`` in ``mode``, ranked
        by the engine over ``rank_words`` (default: ``words``), as rows of ``fields`` in no
        particular order (the shared scorer orders them). Rows, not model instances: most
        candidates are scored and dropped, building an instance for each costs more than
        scoring it.
        """
        ...


def groups(words: list[str], mode: Mode) -> list[list[str]]:
    """The alternatives a document may match, each a set of words it must all have."""
    if mode == "all":
        return [words]
    if mode == "pairs" and len(words) > 2:
        return [[first, second] for i, first in enumerate(words) for second in words[i + 1 :]]
    return [[word] for word in words]


def _best(word: str, rows: list[tuple[str, int]]) -> tuple[str, int] | None:
    scored = [
        (text.similarity(word, term), count, term)
        for term, count in rows
        if term != word and text.similarity(word, term) >= TRIGRAM_THRESHOLD
    ]
    if not scored:
        return None
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return scored[0][2], scored[0][1]


class PostgresEngine:
    def corrections(self, account_id: int, words: list[str]) -> dict[str, tuple[str, int]]:
        if not words:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT q.word, t.term, t.doc_count FROM unnest(%s::text[]) AS q(word) "  # noqa: S608 - fixed SQL, bound values
                "CROSS JOIN LATERAL ("
                f"  SELECT term, doc_count FROM {TERM} WHERE account_id = %s AND term %% q.word "
                "   AND term <> q.word"
                "   ORDER BY similarity(term, q.word) DESC, doc_count DESC, term LIMIT 1"
                ") AS t",
                [words, account_id],
            )
            return {word: (term, count) for word, term, count in cursor.fetchall()}

    def candidates(
        self,
        queryset: QuerySet[SessionSearchDocument],
        words: list[str],
        mode: Mode,
        limit: int,
        *,
        fields: Sequence[str],
        rank_words: list[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        # websearch syntax: words side by side are AND-ed, "or" separates alternatives (the
        # words are keywords: letters and digits only).
        match = " or ".join(" ".join(group) for group in groups(words, mode))
        rank = " or ".join(rank_words or words)
        tsquery = "websearch_to_tsquery('english', %s)"
        # The GIN index finds the matches; ts_rank_cd reads each one's vector, so at most
        # RANK_CAP of them are ranked (a query of two common words matches thousands). They
        # are ranked where the index scan reads them, and only the ``limit`` best are read
        # again by primary key for their columns.
        ranked = (
            queryset.extra(  # noqa: S610 - fixed SQL, bound values
                select={"engine_rank": f"ts_rank_cd(search_vector, {tsquery})"},
                select_params=[rank],
                where=[f"search_vector @@ {tsquery}"],
                params=[match],
            )
            .order_by()
            .values("id", "engine_rank")[:RANK_CAP]
        )
        sql, params = ranked.query.sql_with_params()
        best = RawSQL(  # noqa: S611 - fixed SQL, bound values
            f"SELECT capped.id FROM ({sql}) AS capped "  # noqa: S608 - fixed SQL, bound values
            "ORDER BY capped.engine_rank DESC, capped.id DESC LIMIT %s",
            (*params, limit),
        )
        return list(queryset.filter(id__in=best).values_list(*fields))


class SqliteEngine:
    def corrections(self, account_id: int, words: list[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        for word in words:
            rows = list(
                SessionSearchTerm.objects.annotate(size=Length("term"))
                .filter(
                    account_id=account_id,
                    size__gte=max(1, len(word) - 3),
                    size__lte=len(word) + 3,
                )
                .values_list("term", "doc_count")
            )
            best = _best(word, rows)
            if best is not None:
                found[word] = best
        return found

    def candidates(
        self,
        queryset: QuerySet[SessionSearchDocument],
        words: list[str],
        mode: Mode,
        limit: int,
        *,
        fields: Sequence[str],
        rank_words: list[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        # bm25 ranks by the MATCH expression itself; ``rank_words`` only matter on PostgreSQL,
        # where candidates are few and the shared scorer decides the order anyway.
        match = " OR ".join(
            "(" + " AND ".join(f'"{word}"' for word in group) + ")" for group in groups(words, mode)
        )
        return list(
            queryset.extra(  # noqa: S610 - fixed SQL, bound values
                select={"engine_rank": f"-bm25({FTS}, 10.0, 4.0, 4.0, 2.0, 1.0)"},
                tables=[FTS],
                where=[f"{FTS}.rowid = {DOC}.id", f"{FTS} MATCH %s"],
                params=[match],
            )
            .order_by("-engine_rank", "-id")
            .values_list(*fields)[:limit]
        )


def engine() -> Engine:
    return PostgresEngine() if connection.vendor == "postgresql" else SqliteEngine()
