"""
What can go wrong talking to a PSA. Every error is an ``UpstreamError`` (502 with the PSA's
message) unless a subclass says otherwise, so pages and the API answer it like any refusal and
code outside ``psa`` can catch the base class without importing this module.
"""

from __future__ import annotations

from typing import Any

from flowpilot.errors import UpstreamError


class PSAError(UpstreamError):
    code = "psa_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        request_id: str = "",
    ) -> None:
        super().__init__(detail, code=code, status=status, extra=extra)
        self.request_id = request_id


class PSANotConfigured(PSAError):
    status = 409
    code = "psa_not_configured"


class PSAAuthError(PSAError):
    code = "psa_auth_failed"


class PSAPermissionError(PSAError):
    code = "psa_permission_denied"

    def __init__(self, detail: str, *, permission: str = "", **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.permission = permission
        if permission:
            self.extra.setdefault("permission", permission)


class PSANotFound(PSAError):
    code = "psa_not_found"


class PSAValidationError(PSAError):
    code = "psa_invalid"

    def __init__(
        self, detail: str, *, field_errors: dict[str, list[str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(detail, **kwargs)
        self.field_errors = field_errors or {}
        if self.field_errors:
            self.extra.setdefault("errors", self.field_errors)


class PSARateLimited(PSAError):
    code = "psa_rate_limited"

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class PSAUnavailable(PSAError):
    code = "psa_unavailable"


class PSATimeout(PSAUnavailable):
    """No answer in time: a write may or may not have happened (re-read before retrying)."""

    code = "psa_timeout"


class PSAStatusVerificationError(PSAError):
    code = "psa_status_not_applied"
