"""The inline fact editor is only handed to those whose save would be accepted."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from sessions_app.models import Fact, FactSource
from sessions_app.tests.test_fixes import make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def fact(engineer: User) -> Fact:
    session = make_session(engineer)
    return Fact.objects.create(
        account_id=session.account_id,
        session=session,
        text="VPN drops at 5 pm",
        source=FactSource.NOTE,
    )


def editor_url(fact: Fact) -> str:
    return f"/sessions/{fact.session_id}/facts/{fact.pk}"


@pytest.mark.parametrize("who", ["viewer", "teammate"])
def test_no_editor_for_those_who_cannot_save(
    request: Any, who: str, fact: Fact, client_for: Any
) -> None:
    """A viewer, or an engineer not on the session, gets 403 for the editor fragment, and the
    page's ?edit= shows the text without a form."""
    client = client_for(request.getfixturevalue(who))
    refused = client.get(editor_url(fact), HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    page = client.get(f"/sessions/{fact.session_id}?edit={fact.pk}")
    assert page.status_code == 200
    assert b'data-testid="fact-edit-input"' not in page.content
    assert b"VPN drops at 5 pm" in page.content


def test_the_sessions_engineer_gets_the_editor(engineer: User, fact: Fact, client_for: Any) -> None:
    client = client_for(engineer)
    fragment = client.get(editor_url(fact), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert b'data-testid="fact-edit-input"' in fragment.content
    page = client.get(f"/sessions/{fact.session_id}?edit={fact.pk}")
    assert b'data-testid="fact-edit-input"' in page.content


def test_a_stranger_gets_404(stranger: User, fact: Fact, client_for: Any) -> None:
    assert client_for(stranger).get(editor_url(fact), HTTP_HX_REQUEST="true").status_code == 404
