"""The assistant uses institutional memory: the chat prompt carries the account's past sessions."""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from flowpilot.llm import get_llm_client
from flowpilot.llm.testing import FakeMessagesServer, FakeReply
from sessions_app.memory.assistant import BLOCK_LIMIT
from sessions_app.memory.corpus import SESSIONS
from sessions_app.memory.history import record_past_session
from sessions_app.memory.indexing import index_session
from sessions_app.models import SuggestedFix
from sessions_app.services import chat, sessions

pytestmark = pytest.mark.django_db
BY_KEY = {past.key: past for past in SESSIONS}


def _history(user: User, *keys: str) -> list[int]:
    ids = []
    for key in keys:
        session = record_past_session(user=user, past=BY_KEY[key])
        index_session(session_id=session.pk)
        ids.append(session.pk)
    return ids


def test_chat_prompt_carries_past_sessions_bounded_and_redacted(
    engineer: User, stranger: User
) -> None:
    ids = _history(engineer, "backup-cred", "backup-vss", "backup-space", "outlook-ost")
    _history(stranger, "backup-cred")
    session, step = sessions.create_session(
        user=engineer, problem="Backup job fails with access denied since the password rotation"
    )
    past = chat.build_chat_request(session, step).context["past_sessions"]
    assert past[0]["session_id"] == ids[0]
    assert past[0]["fix_title"] == "Update the backup job credentials"
    assert past[0]["outcome"] == "applied_success"
    assert past[0]["resolved_ago"].endswith("ago")
    assert {entry["session_id"] for entry in past} <= set(ids)
    assert len(past) <= 3
    text = json.dumps(past)
    assert len(text) <= BLOCK_LIMIT + 400
    assert "Winter2026" not in text and "ConvertTo-SecureString" not in text


def test_no_history_adds_nothing(engineer: User) -> None:
    session, step = sessions.create_session(user=engineer, problem="Printer offline")
    assert "past_sessions" not in chat.build_chat_request(session, step).context


def test_offline_turn_names_the_past_session_whose_fix_worked(engineer: User) -> None:
    """Through the real chat turn: the offline assistant leads with the cause that fixed it."""
    (source,) = _history(engineer, "outlook-ost")
    SuggestedFix.objects.filter(session_id=source, status="applied_success").update(
        title="Rebuild the Outlook offline cache"
    )
    index_session(session_id=source)
    session, step = sessions.create_session(user=engineer, problem="Outlook is not syncing mail")
    chat.run_reply(session=session, user_step=step, fresh=True)
    turn = chat.send_message(session=session, user=engineer, content="what do you suggest?")
    assert turn.fix is not None
    assert turn.fix.title == "Rebuild the Outlook offline cache"
    assert f"This fixed #{source}" in turn.assistant_step.content


def test_claude_gets_the_past_sessions_in_its_context_block(engineer: User) -> None:
    _history(engineer, "vpn-dpd")
    session, step = sessions.create_session(
        user=engineer, problem="FortiClient VPN keeps dropping, DPD timeouts on the FortiGate"
    )
    with FakeMessagesServer(default=FakeReply("Let's check the tunnel.")) as server:
        client = get_llm_client(
            provider="anthropic", api_key="sk-test", base_url=server.base_url, max_retries=0
        )
        chat.run_reply(session=session, user_step=step, client=client, fresh=True)
        system = server.requests[-1].body["system"]
    block = system.split("<context>", 1)[1]
    assert '"past_sessions"' in block
    assert "Raise FortiGate DPD retry interval" in block
    assert "Reinstall FortiClient" in block
