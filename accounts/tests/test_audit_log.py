"""The owner's audit log: human labels, readable payloads, filters, cursor pages, CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.audit_display import display_event
from accounts.models import AuditEvent, User
from accounts.selectors import AUDIT_PAGE_SIZE
from accounts.services.audit import record_event

pytestmark = pytest.mark.django_db

URL = "/account/audit"


def policy_change(owner: User) -> AuditEvent | None:
    return record_event(
        account=owner.account,
        actor=owner,
        type="account.session_policy_update",
        payload={
            "old": {"idle_minutes": None, "absolute_minutes": None},
            "new": {"idle_minutes": 60, "absolute_minutes": None},
            "effective_old": {"idle_minutes": 4320, "absolute_minutes": 20160},
            "effective_new": {"idle_minutes": 60, "absolute_minutes": 20160},
        },
    )


def bulk(owner: User, count: int = 3) -> None:
    record_event(
        account=owner.account,
        actor=owner,
        type="account.sessions_revoked_bulk",
        payload={"scope": "all", "revoked_count": count},
    )


class TestReadable:
    def test_labels_sentences_and_before_after(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        policy_change(owner)
        bulk(owner)
        html = client_for(owner).get(URL).content.decode()
        assert "Session policy changed" in html
        assert "Everyone signed out" in html
        assert "3 sessions ended." in html
        assert "Idle timeout" in html and "3 days" in html and "1 hour" in html
        assert "{&#x27;" not in html and "revoked_count=" not in html
        assert re.search(
            r'<time datetime="[^"]+" title="[^"]+"[^>]*>[^<]*(ago|just now)</time>', html
        )

    def test_unknown_types_and_odd_payloads_still_read_as_words(self) -> None:
        shown = display_event("widget.frobnicated", {"widget_id": 4, "tags": ["a", "b"]})
        assert shown.label == "Widget frobnicated"
        assert shown.sentence == "Widget id: 4 · Tags: a, b"
        assert display_event("auth.session_expired", "not a dict").label == "Session expired"
        broken = display_event("user.role_changed", {"old": None})
        assert broken.label == "Role changed"

    def test_downstream_events_are_labelled(self) -> None:
        shown = display_event("session.resolved", {"session_id": 7, "via": "psa"})
        assert shown.label == "Session resolved"
        assert shown.sentence == "Session #7, note posted to the ticket."


class TestFilters:
    def test_by_type_person_and_date(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)  # writes an auth.login for the owner
        bulk(owner)
        record_event(account=owner.account, actor=engineer, type="auth.logout")
        old = record_event(account=owner.account, actor=engineer, type="auth.login")
        assert old is not None
        AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
        by_type = page.get(URL, {"type": "account.sessions_revoked_bulk"}).content.decode()
        assert by_type.count('data-event-type="') == 1
        by_person = page.get(URL, {"person": str(engineer.pk)}).content.decode()
        assert by_person.count('data-event-type="') == 2
        today = timezone.now().date().isoformat()
        recent = page.get(URL, {"person": str(engineer.pk), "date_from": today}).content.decode()
        assert recent.count('data-event-type="') == 1
        until = (timezone.now() - timedelta(days=5)).date().isoformat()
        older = page.get(URL, {"date_to": until}).content.decode()
        assert older.count('data-event-type="') == 1

    def test_bad_filter_values_are_shown_not_raised(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        response = client_for(owner).get(URL, {"date_from": "yesterday", "person": "x"})
        assert response.status_code == 200
        assert "Enter a valid date." in response.content.decode()

    def test_another_accounts_events_never_show(
        self, owner: User, stranger: User, client_for: Callable[[User], Client]
    ) -> None:
        bulk(stranger, count=99)
        html = client_for(owner).get(URL, {"person": stranger.pk}).content.decode()
        assert "99 sessions" not in html
        assert client_for(owner).get(URL).content.decode().count("99 sessions") == 0


class TestPagination:
    def test_cursor_pages_cover_every_event_once_with_flat_queries(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        moment = timezone.now()
        AuditEvent.objects.bulk_create(
            AuditEvent(
                account=owner.account,
                actor=owner,
                type="test.numbered",
                payload={"n": index},
                created_at=moment,  # equal times: the id breaks the tie
            )
            for index in range(AUDIT_PAGE_SIZE * 2 + 5)
        )
        total = AuditEvent.objects.filter(account=owner.account).count()
        seen: list[str] = []
        url, counts = URL, []
        while url:
            with CaptureQueriesContext(connection) as queries:
                response = page.get(url)
            counts.append(len(queries.captured_queries))
            html = response.content.decode()
            seen += re.findall(r"N: (\d+)", html)
            more = re.search(r'id="audit-more" href="([^"]+)"', html)
            url = f"{URL}{more.group(1).replace('&amp;', '&')}" if more else ""
        assert len(counts) == 3
        numbered = total - 1  # the owner's own sign-in has no number
        assert len(seen) == numbered
        assert len(set(seen)) == numbered
        assert len(set(counts)) == 1, counts

    def test_load_more_swaps_in_only_the_next_rows(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        for _ in range(AUDIT_PAGE_SIZE + 1):
            bulk(owner)
        first = page.get(URL).content.decode()
        more = re.search(r'id="audit-more" href="[^"]+"\s+hx-get="([^"]+)"', first)
        assert more
        fragment = page.get(f"{URL}{more.group(1).replace('&amp;', '&')}", HTTP_HX_REQUEST="true")
        html = fragment.content.decode()
        assert "<html" not in html
        assert 1 <= html.count('data-event-type="') <= 2
        assert 'id="audit-more"' not in html

    def test_a_forged_cursor_is_the_first_page(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        response = client_for(owner).get(URL, {"cursor": "bm90LWEtY3Vyc29y"})
        assert response.status_code == 200


class TestCsv:
    def test_export_follows_the_filters(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        policy_change(owner)
        record_event(
            account=owner.account,
            actor=engineer,
            type="auth.login_failed",
            payload={"email": "=cmd|' /C calc'!A0"},
        )
        response = page.get(f"{URL}.csv", {"type": "account.session_policy_update"})
        assert response["Content-Type"] == "text/csv"
        assert "attachment;" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
        assert rows[0][:3] == ["time_utc", "event", "type"]
        assert len(rows) == 2
        assert rows[1][1] == "Session policy changed"
        assert "Idle timeout: 3 days → 1 hour" in rows[1][6]
        everything = b"".join(page.get(f"{URL}.csv").streaming_content).decode()  # type: ignore[attr-defined]
        assert "Wrong password for =cmd" in everything  # not at the start of a cell

    @pytest.mark.parametrize("role", ["admin_user", "engineer", "viewer"])
    def test_non_owners_get_403(
        self, role: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(request.getfixturevalue(role))
        for url in (URL, f"{URL}.csv"):
            response = page.get(url)
            assert response.status_code == 403
            assert "Account owner access required" in response.content.decode()
