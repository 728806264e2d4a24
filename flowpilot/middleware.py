"""Request middleware shared by every app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve


class ApiOptionalSlashMiddleware:
    """
    API routes are declared without a trailing slash; the same path with one must work too.
    The path is rewritten in place rather than redirected, because a redirect would turn a
    POST body into a GET.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/api/v1/") and path.endswith("/") and len(path) > len("/api/v1/"):
            try:
                resolve(path)
            except Resolver404:
                request.path_info = path.rstrip("/")
        return self.get_response(request)
