"""The app shell's navigation and palette, and the settings rows front adds to accounts."""

from __future__ import annotations

from typing import Any

from accounts import selectors as account_selectors
from accounts.models import User
from front import navigation


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
