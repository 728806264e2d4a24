"""Relevance of institutional memory on the fixed corpus, on PostgreSQL and on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Account, User
from sessions_app.memory import selectors
from sessions_app.memory.corpus import QUERIES, SESSIONS, SIMILAR
from sessions_app.memory.history import record_past_session
from sessions_app.memory.indexing import index_session
from sessions_app.services.sessions import create_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(engineer: User) -> dict[str, int]:
    """The corpus as resolved sessions of the engineer's account: key → session id."""
    ids = {}
    for past in SESSIONS:
        session = record_past_session(user=engineer, past=past)
        index_session(session_id=session.pk)
        ids[past.key] = session.pk
    return ids


def _first_hits(account: Account, corpus: dict[str, int]) -> dict[str, list[str]]:
    by_id = {value: key for key, value in corpus.items()}
    found = {}
    for query, _ in QUERIES:
        page = selectors.search(account.pk, query, filters=selectors.SearchFilters())
        found[query] = [by_id[match.session_id] for match in page.matches[:3]]
    return found


def test_corpus_is_big_enough() -> None:
    """≥ 40 resolved sessions over ≥ 10 families, ≥ 15 queries with an expected first hit."""
    assert len(SESSIONS) >= 40
    assert len({past.family for past in SESSIONS}) >= 10
    assert len(QUERIES) >= 15
    assert {key for _, key in QUERIES} <= {past.key for past in SESSIONS}


def test_relevance_on_the_corpus(engineer: User, corpus: dict[str, int]) -> None:
    """
    The expected session is first for ≥ 90 % of the queries and in the top 3 for all (typos
    and shuffled word order among them); typo and word-order variants of one query agree; a
    new session's problem shows the right past session first, with the words that matched.
    """
    found = _first_hits(engineer.account, corpus)
    first = [query for query, key in QUERIES if found[query][:1] == [key]]
    misses = {query: found[query] for query, key in QUERIES if key not in found[query]}
    ratio = len(first) / len(QUERIES)
    print(f"relevance on {connection.vendor}: first {len(first)}/{len(QUERIES)} = {ratio:.0%}")
    assert not misses, misses
    assert ratio >= 0.9, {q: found[q] for q, k in QUERIES if found[q][:1] != [k]}

    variants = [
        "outlook password prompt after password change",
        "outlok pasword prompt after pasword change",
        "change password after prompt password outlook",
    ]
    firsts = {
        selectors.search(engineer.account_id, text, filters=selectors.SearchFilters())
        .matches[0]
        .session_id
        for text in variants
    }
    assert firsts == {corpus["outlook-password"]}

    for problem, key in SIMILAR:
        matches = selectors.similar_to_text(engineer.account_id, problem)
        assert matches, problem
        assert matches[0].session_id == corpus[key], (problem, [m.as_dict() for m in matches])
        assert matches[0].why


@pytest.mark.subprocess_only("MEMORY_FIRST_HITS_OUT")
def test_first_hits_of_this_engine(engineer: User, corpus: dict[str, int]) -> None:
    """
    This engine's first hit for every query, written to ``MEMORY_FIRST_HITS_OUT`` for the
    parity test below to compare across engines.
    """
    found = _first_hits(engineer.account, corpus)
    assert all(found.values())
    # "Solved before" of a session reads its first message and facts in one compound query,
    # which this engine must accept too (the demo runs on SQLite).
    problem, expected = SIMILAR[0]
    current, _ = create_session(user=engineer, problem=problem)
    assert selectors.first_message_and_facts(current) == (problem, [])
    assert selectors.similar_for_session(current)[0].session_id == corpus[expected]
    Path(os.environ["MEMORY_FIRST_HITS_OUT"]).write_text(
        json.dumps({q: hits[0] for q, hits in found.items()})
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares PostgreSQL with SQLite")
def test_sqlite_and_postgresql_give_the_same_first_hit(
    engineer: User, corpus: dict[str, int], tmp_path: Path
) -> None:
    """The same corpus ranked by FTS5 (a SQLite run of this module) and by PostgreSQL."""
    out = tmp_path / "sqlite-first-hits.json"
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite:///unused",
        "MEMORY_FIRST_HITS_OUT": str(out),
        # An absolute name keeps the throw-away SQLite file out of the checkout.
        "FLOWPILOT_TEST_DB_NAME": str(tmp_path / "parity"),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    # The child runs on SQLite on purpose: CI's "every service must be reachable" rule is for
    # the parent run, which has PostgreSQL.
    env.pop("CI", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "--create-db",
            f"{__file__}::test_first_hits_of_this_engine",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    sqlite_hits = json.loads(out.read_text())
    found = _first_hits(engineer.account, corpus)
    assert {q: hits[0] for q, hits in found.items()} == sqlite_hits
