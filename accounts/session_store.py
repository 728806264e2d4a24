"""
The page session store (``SESSION_ENGINE``): Django's database sessions, read together with the
sign-in behind them.

Every signed-in page request needs both the Django session and its ``LoginSession`` (with the
user and account) before a view runs (``SessionPolicyMiddleware``). The store reads them in one
query — the sign-in recorded for this session key, with the session's data beside it — and keeps
the sign-in as ``login_session`` for the middleware, which still checks that it is the one the
session names. A session without such a row (anonymous, from before the policy existed, or
whose key changed after the sign-in) is read the plain way.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db

from accounts import selectors
from accounts.models import LoginSession


class SessionStore(db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self.login_session: LoginSession | None = None

    def load(self) -> dict[str, Any]:
        self.login_session = None
        key = self.session_key
        found = selectors.web_session_by_key(key) if key else None
        if found is None:
            return super().load()
        login_session, session_data = found
        self.login_session = login_session
        if session_data is None:  # expired or deleted: an empty session, as Django answers
            self._session_key = None
            return {}
        return self.decode(session_data)
