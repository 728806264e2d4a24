"""The app shell's navigation and palette, and the settings rows front adds to accounts."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import User
from front import navigation
from front.selectors import shell_counts
from handoffs.models import AppNotification
from handoffs.selectors import unread_notifications
from scripts.models import DraftStatus, DraftTemplate
from scripts.selectors import pending_drafts_of
from scripts.tests.test_drafts_builder import _pending_draft


def test_sections_without_a_page_are_shown_disabled(engineer: User, client_for: Any) -> None:
    """A section whose app serves no page yet is a disabled item, not a broken link."""
    items = {item["key"]: item["url"] for item in navigation.nav_items()}
    assert items["sessions"] == "/sessions" and items["account"] == "/account"
    html = client_for(engineer).get("/sessions").content.decode()
    for key, url in items.items():
        if url:
            assert f'href="{url}"' in html
        else:
            assert f'title="Not available yet" data-nav="{key}"' in html


def test_palette_lists_only_pages_that_exist() -> None:
    """Each palette entry has a URL; sections not installed are left out."""
    commands = navigation.palette_commands()
    assert {"label": "New session", "url": "/sessions/new", "key": "N"} in commands
    assert all(command["url"] for command in commands)


def test_psa_settings_row_is_registered_after_security() -> None:
    """front registers the PSA row in accounts' settings list, right after Session security."""
    keys = [row.key for row in account_selectors.SETTINGS_ROWS]
    assert keys.index("psa") == keys.index("security") + 1


def test_registering_a_row_twice_keeps_one(owner: User) -> None:
    row = account_selectors.SettingsRow("security", "Again", "", "account-security", "owner")
    account_selectors.register_settings_row(row)
    keys = [r["key"] for r in account_selectors.settings_rows(owner)]
    assert keys.count("security") == 1


def _badge_queries(client: Any, path: str) -> tuple[str, list[str]]:
    client.get(path)  # the sign-in's activity stamp is written once, not per sample
    with CaptureQueriesContext(connection) as queries:
        html = client.get(path).content.decode()
    tables = ("scripts_drafttemplate", "handoffs_appnotification")
    counting = [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in tables)]
    return html, counting


def test_one_query_counts_the_nav_badge_and_the_bell(engineer: User, client_for: Any) -> None:
    _pending_draft(engineer)
    _pending_draft(engineer, ticket="5")
    AppNotification.objects.bulk_create(
        AppNotification(account=engineer.account, user=engineer, title=f"N{i}", link="/")
        for i in range(3)
    )
    html, counting = _badge_queries(client_for(engineer), "/account")
    assert 'data-testid="nav-badge-scripts" title="Waiting for review">2</span>' in html
    assert 'data-testid="bell-count">3</span>' in html
    assert len(counting) == 1


def test_a_viewer_sees_the_bell_but_no_draft_count(
    engineer: User, viewer: User, client_for: Any
) -> None:
    _pending_draft(engineer)
    AppNotification.objects.create(account=viewer.account, user=viewer, title="N", link="/")
    html, counting = _badge_queries(client_for(viewer), "/account")
    assert 'data-testid="nav-badge-scripts"' not in html
    assert 'data-testid="bell-count">1</span>' in html
    assert len(counting) == 1


def test_shell_links_point_at_their_pages(engineer: User, client_for: Any) -> None:
    """The shell's links are reversed once, not per page, and still lead where they should."""
    html = client_for(engineer).get("/account").content.decode()
    for name in navigation.SHELL_URL_NAMES:
        url = navigation._url(name)
        assert url and f'"{url}"' in html, name


def test_shell_counts_match_the_selectors_they_stand_for(
    engineer: User, teammate: User, stranger: User
) -> None:
    """The shell's one counting query counts what the bell and the drafts list count."""
    for index, user in enumerate([engineer, engineer, engineer, teammate, stranger]):
        AppNotification.objects.create(account=user.account, user=user, title=f"N{index}", link="/")
    first = AppNotification.objects.filter(user=engineer).order_by("pk")[:1]
    AppNotification.objects.filter(pk__in=first).update(read_at=timezone.now())
    _pending_draft(engineer)
    rejected = _pending_draft(engineer, ticket="2")
    DraftTemplate.objects.filter(pk=rejected.pk).update(status=DraftStatus.REJECTED)
    counts = shell_counts(engineer)
    assert counts.unread_notifications == unread_notifications(engineer).count() == 2
    assert counts.pending_drafts == pending_drafts_of(engineer.account_id).count() == 1
