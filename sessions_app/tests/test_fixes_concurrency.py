"""
A fix change racing a chat turn on PostgreSQL. A chat reply locks the session, then updates the
fix (a new suggestion supersedes it, an outcome proposal is attached); the fix services must
take the same order, or the two wait on each other and PostgreSQL aborts one as a deadlock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.llm.testing import ScriptedClient
from sessions_app import selectors
from sessions_app.models import AISession, FixStatus, SuggestedFix
from sessions_app.services import chat, fixes
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ApiFor = Callable[[User], APIClient]
SUGGEST = (
    'Then try this.\n[SUGGEST_FIX]{"title": "Clear the spool folder", "description": '
    '"Removes corrupt jobs.", "confidence": 60, "script": "Remove-Item $env:windir/spool/*", '
    '"parameters": []}'
)
OUTCOME = (
    'Sounds fixed.\n[FIX_OUTCOME]{"outcome": "applied_success", '
    '"reason": "The engineer says the queue is empty."}'
)
# How long the outcome request, holding what it has locked so far, waits for the reply to
# lock the session. With the right lock order the reply cannot get there: the wait times out.
HOLD_SECONDS = 1.5


@pytest.mark.parametrize(
    ("reply", "service"),
    [(SUGGEST, "propose_fix"), (OUTCOME, "record_ai_outcome_proposal")],
    ids=["suggest_fix", "fix_outcome"],
)
def test_an_outcome_patch_and_a_reply_with_fix_markers_both_succeed(
    engineer: User,
    api_client_for: ApiFor,
    monkeypatch: pytest.MonkeyPatch,
    reply: str,
    service: str,
) -> None:
    """
    The outcome PATCH gets as far as its first fix-service write and pauses; the reply then
    runs up to its fix marker (session locked) and continues. Both must finish without a
    database error, each with its effect stored.
    """
    assert connection.vendor == "postgresql"
    session = make_session(engineer)
    fix = make_fix(session)
    api = api_client_for(engineer)
    written = threading.Event()  # the outcome request has written the fix row
    reply_locked = threading.Event()  # the reply holds the session lock, about to touch the fix
    errors: list[BaseException] = []
    responses: list[Any] = []

    bump = AISession.bump_state_version

    def paused_bump(self: AISession) -> None:
        if threading.current_thread().name == "outcome":
            written.set()
            reply_locked.wait(HOLD_SECONDS)
        bump(self)

    monkeypatch.setattr(AISession, "bump_state_version", paused_bump)
    original = getattr(fixes, service)

    def marker_service(**kwargs: Any) -> Any:
        reply_locked.set()
        time.sleep(0.3)  # let the outcome request run into the session lock first
        return original(**kwargs)

    monkeypatch.setattr(fixes, service, marker_service)

    def patch_outcome() -> None:
        try:
            responses.append(
                api.patch(
                    f"/api/v1/ai-sessions/{session.pk}/suggested-fixes/{fix.pk}/outcome",
                    {"outcome": "applied_pending", "reason": "Reboot tonight"},
                    format="json",
                )
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            written.set()
            connections.close_all()

    def send_reply() -> None:
        try:
            written.wait(10)
            chat.send_message(
                session=AISession.objects.get(pk=session.pk),
                user=engineer,
                content="The queue is still stuck",
                client=ScriptedClient([reply]),
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            reply_locked.set()
            connections.close_all()

    threads = [
        threading.Thread(target=patch_outcome, name="outcome"),
        threading.Thread(target=send_reply, name="reply"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)

    assert errors == []
    assert [response.status_code for response in responses] == [200]
    fix.refresh_from_db()
    assert fix.status == FixStatus.APPLIED_PENDING
    assert fix.pending_reason == "Reboot tonight"
    if service == "propose_fix":
        active = selectors.active_fix(session)
        assert active is not None and active.title == "Clear the spool folder"
        assert fix.superseded_at is not None
        assert SuggestedFix.objects.filter(session=session).count() == 2
    else:
        assert fix.ai_outcome_proposal is not None
        assert fix.ai_outcome_proposal["outcome"] == "applied_success"
