"""A ``session.revoked`` push closes every socket of the person, or only the named sign-ins'."""

from __future__ import annotations

from accounts.services.web_sessions import SESSION_MARKER
from accounts.session_guard import revoked_here


def _scope(login_session_id: int | None) -> dict[str, object]:
    return {"session": {SESSION_MARKER: login_session_id} if login_session_id else {}}


def test_a_push_without_a_target_concerns_every_socket() -> None:
    assert revoked_here(_scope(7), {}) and revoked_here(_scope(None), {})


def test_a_device_sign_out_concerns_only_that_sign_ins_sockets() -> None:
    assert revoked_here(_scope(7), {"login_session_ids": [7]})
    assert not revoked_here(_scope(8), {"login_session_ids": [7]})
    assert not revoked_here(_scope(None), {"login_session_ids": [7]})


def test_signing_out_the_other_devices_concerns_each_of_theirs_and_not_this_one() -> None:
    others = {"login_session_ids": [7, 9]}
    assert revoked_here(_scope(7), others) and revoked_here(_scope(9), others)
    assert not revoked_here(_scope(8), others)
