"""GET /api/v1/ai-sessions: cursor pages of my sessions and those I picked up, flat in cost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from sessions_app.models import AISession

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]
URL = "/api/v1/ai-sessions"


def make_sessions(user: User, count: int, *, escalated_to: User | None = None) -> list[AISession]:
    """Sessions with distinct activity times, newest last (bulk: no chat turn needed)."""
    now = timezone.now()
    rows = [
        AISession(
            account=user.account,
            user=user,
            problem_summary=f"{user.email} problem {index}",
            escalated_to=escalated_to,
            status="escalated" if escalated_to else "active",
            updated_at=now - timedelta(minutes=count - index),
        )
        for index in range(count)
    ]
    return AISession.objects.bulk_create(rows)


def walk(client: APIClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = client.get(next_url).json()
        rows += body["results"]
        next_url = body["next"]
    return rows


def test_pages_walk_every_session_once_newest_first(
    engineer: User, teammate: User, stranger: User, api_client_for: ApiFor
) -> None:
    """Following `next` visits mine and the picked-up ones, each once, in activity order; a
    colleague's and another account's sessions never appear."""
    mine = make_sessions(engineer, 7)
    picked = make_sessions(teammate, 4, escalated_to=engineer)
    make_sessions(teammate, 3)
    make_sessions(stranger, 3)
    rows = walk(api_client_for(engineer), f"{URL}?limit=3")
    assert sorted(row["id"] for row in rows) == sorted(s.pk for s in [*mine, *picked])
    stamps = [row["updated_at"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_last_page_has_no_next_and_a_page_holds_limit_rows(
    engineer: User, api_client_for: ApiFor
) -> None:
    make_sessions(engineer, 5)
    client = api_client_for(engineer)
    first = client.get(f"{URL}?limit=2").json()
    assert len(first["results"]) == 2 and first["next"].startswith("http://testserver/api/v1/")
    whole = client.get(URL).json()
    assert len(whole["results"]) == 5 and whole["next"] is None


def test_sessions_with_the_same_activity_time_are_not_skipped(
    engineer: User, api_client_for: ApiFor
) -> None:
    """The cursor is (updated_at, id): ties on the time are split by id, none lost."""
    rows = make_sessions(engineer, 6)
    AISession.objects.filter(pk__in=[s.pk for s in rows]).update(updated_at=timezone.now())
    ids = [row["id"] for row in walk(api_client_for(engineer), f"{URL}?limit=4")]
    assert ids == sorted((s.pk for s in rows), reverse=True)


@pytest.mark.parametrize("cursor", ["not-base64!", "Zm9vfGJhcg", "MjAyNi0wMS0wMXww"])
def test_a_tampered_cursor_is_a_400_not_a_500(
    engineer: User, api_client_for: ApiFor, cursor: str
) -> None:
    response = api_client_for(engineer).get(f"{URL}?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_query_count_is_flat_with_the_number_of_sessions(
    engineer: User, teammate: User, api_client_for: ApiFor, django_assert_num_queries: Any
) -> None:
    """Two sessions or sixty (and picked-up ones), first page or later: the same queries."""
    client = api_client_for(engineer)
    make_sessions(engineer, 2)
    with django_assert_num_queries(3):  # auth user, sign-in check, the page
        assert client.get(URL).status_code == 200
    make_sessions(engineer, 60)
    make_sessions(teammate, 20, escalated_to=engineer)
    with django_assert_num_queries(3):
        body = client.get(f"{URL}?limit=10").json()
    with django_assert_num_queries(3):
        assert len(client.get(body["next"]).json()["results"]) == 10


def test_viewer_reads_the_list(viewer: User, api_client_for: ApiFor) -> None:
    """Viewers read: the list answers 200 (empty for someone who owns no session)."""
    response = api_client_for(viewer).get(URL)
    assert response.status_code == 200 and response.json() == {"results": [], "next": None}
