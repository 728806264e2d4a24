"""Error pages: JSON for the API, the app's own pages for everything else."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int
) -> HttpResponse:
    """
    An error page: inside the app shell for a signed-in person (the sidebar stays, so a 403 or
    404 is never a dead end), a plain card for anyone else (nothing of an account is shown).
    """
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    layout = "errors/_in_app.html" if signed_in else "errors/_plain.html"
    return render(request, template, {**(context or {}), "error_layout": layout}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """
    Django's own 400s (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields, an
    unreadable multipart body, a bad Host) — raised before or around the view, so DRF's
    exception handler never sees them.
    """
    if isinstance(exception, RequestDataTooBig):
        detail, code, status = "The request body is too large.", "payload_too_large", 413
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        detail, code, status = "The request has too many fields.", "too_many_fields", 400
    else:
        detail, code, status = "The request could not be read.", "bad_request", 400
    if _wants_json(request):
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return error_page(request, "errors/400.html", {"message": detail}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You can't open this page."
    if _wants_json(request):
        return JsonResponse({"detail": message, "code": "permission_denied"}, status=403)
    return error_page(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return error_page(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return render(request, "errors/500.html", status=500)
