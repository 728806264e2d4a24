"""
Page sessions under the account's session-expiration policy.

Runs after Django's authentication middleware. For a signed-in session it loads the session's
``LoginSession`` row together with the user and account (one query, which also stands in for
Django's own user query) and:

- revoked or missing → the session is flushed and the request goes on anonymously (pages then
  send it to ``/login`` without a banner; HTMX requests get ``HX-Redirect``);
- idle or absolute deadline reached → the session ends with an ``auth.session_expired`` audit
  event and the browser goes to ``/login?reason=session_expired``;
- otherwise real activity moves the idle deadline (written at most once a minute). Background
  requests — ``X-FlowPilot-Background: 1`` (polling) and the expiry check — never do.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_htmx.http import HttpResponseClientRedirect

from accounts import selectors
from accounts.models import ADMIN_REVOKE_REASONS, LoginSession, RevokeReason, User
from accounts.services import web_sessions
from accounts.services.auth import client_ip

BACKGROUND_HEADER = "X-FlowPilot-Background"
BACKGROUND_PATHS = frozenset({"/account/session-status", "/account/session-status/dismiss"})
EXPIRED_URL = "/login?reason=session_expired"
LOGIN_URL = "/login"
SIGNED_OUT_URL = "/login?reason=signed_out"
PASSWORD_CHANGED_URL = "/login?reason=password_changed"  # noqa: S105 (a URL)


def is_background(request: HttpRequest) -> bool:
    return request.headers.get(BACKGROUND_HEADER) == "1" or request.path in BACKGROUND_PATHS


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or is_background(request)


def _revoked_url(login_session: LoginSession | None) -> str:
    """Where a signed-out browser goes: a plain login, or one that says who signed it out."""
    reason = login_session.revoked_reason if login_session is not None else ""
    if reason in ADMIN_REVOKE_REASONS:
        return SIGNED_OUT_URL
    if reason == RevokeReason.PASSWORD:
        return PASSWORD_CHANGED_URL
    return LOGIN_URL


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self._enforce(request) or self.get_response(request)

    def _enforce(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        user_id = session.get(SESSION_KEY)
        if user_id is None:
            return None
        marker = session.get(web_sessions.SESSION_MARKER)
        if marker is None:
            self._adopt(request)
            return None
        login_session = selectors.load_web_session(marker, read=getattr(session, "sign_in", None))
        if (
            login_session is None
            or login_session.revoked_at is not None
            or str(login_session.user_id) != str(user_id)
        ):
            self._sign_out(request)
            return self._revoked_response(request, _revoked_url(login_session))
        now = timezone.now()
        kind = login_session.expiry_kind(now)
        if kind:
            web_sessions.expire_web_session(
                login_session=login_session, kind=kind, ip=client_ip(request)
            )
            self._sign_out(request)
            return self._expired_response(request, kind)
        self._prime_user(request, login_session)
        request.login_session = login_session  # type: ignore[attr-defined]
        if not is_background(request):
            web_sessions.touch_web_session(login_session, now=now)
        return None

    @staticmethod
    def _adopt(request: HttpRequest) -> None:
        """A signed-in session from before the policy existed starts its clock now."""
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            web_sessions.start_web_session(
                user=user,
                session=request.session,
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )

    @staticmethod
    def _prime_user(request: HttpRequest, login_session: LoginSession) -> None:
        """
        Hand Django's lazy ``request.user`` the user already joined to the session row, after the
        same checks ``django.contrib.auth.get_user`` makes; on any doubt Django loads it itself.
        """
        if hasattr(request, "_cached_user"):
            return
        session = request.session
        user = login_session.user
        if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
            return
        session_hash = session.get(HASH_SESSION_KEY)
        if (
            user.is_active
            and session_hash
            and constant_time_compare(session_hash, user.get_session_auth_hash())
        ):
            request._cached_user = user  # type: ignore[attr-defined]

    @staticmethod
    def _sign_out(request: HttpRequest) -> None:
        request.session.flush()
        request.user = AnonymousUser()
        request._cached_user = request.user  # type: ignore[attr-defined]

    @staticmethod
    def _revoked_response(request: HttpRequest, target: str) -> HttpResponse | None:
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        if is_background(request):
            body = {"detail": "You were signed out.", "code": "session_revoked"}
            return JsonResponse({**body, "redirect": target}, status=401)
        if target != LOGIN_URL and request.method == "GET" and not _wants_json(request):
            return HttpResponseRedirect(target)
        return None

    @staticmethod
    def _expired_response(request: HttpRequest, kind: str) -> HttpResponse | None:
        if request.path == LOGIN_URL:
            return None
        if _wants_json(request):
            body = {
                "detail": "Your session expired. Sign in again.",
                "code": f"session_expired_{kind}",
                "redirect": EXPIRED_URL,
            }
            return JsonResponse(body, status=401)
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(EXPIRED_URL)
        return HttpResponseRedirect(EXPIRED_URL)
