"""Request middleware shared by every app."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import reswap

from flowpilot.errors import DomainError, Forbidden, NotFound
from flowpilot.htmx import toast
from flowpilot.views import page_not_found


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


class PageDomainErrorMiddleware:
    """
    The one place a page maps a domain refusal it did not answer itself: ``NotFound`` → the 404
    page, ``Forbidden`` → the 403 page (as ``Http404`` / ``PermissionDenied``, which Django's
    handler renders), anything else (a resolved session's 409 ``session_closed``, say) is shown
    to the person instead of becoming a 500: an HTMX request gets a toast and no swap, a plain
    form post goes back where it came from with the message. The API has its own single
    mapping, ``flowpilot.api.exception_handler``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotFound) or exception.status == 404:
            raise Http404(exception.detail) from exception
        if isinstance(exception, Forbidden) or exception.status == 403:
            raise PermissionDenied(exception.detail) from exception
        if request.headers.get("HX-Request") == "true":
            return toast(reswap(HttpResponse(status=200), "none"), exception.detail, "amber")
        messages.warning(request, exception.detail)
        back = request.headers.get("Referer", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/"
        return HttpResponseRedirect(back)


NUL_MESSAGE = "Text can't contain NUL characters (\\x00): remove them and try again."


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return True
    return False


class RejectNulMiddleware:
    """
    The one cleaning step every page form, query string and path goes through: PostgreSQL
    cannot store NUL in text, so a NUL anywhere in them is answered with 400 before a view
    runs (JSON under ``/api/``, a toast for HTMX, the 400 page otherwise), never a 500. JSON
    bodies are checked by ``flowpilot.parsers``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return nul_refused(request)
        return self.get_response(request)


def nul_refused(request: HttpRequest) -> HttpResponse:
    from django.http import JsonResponse

    from flowpilot.views import error_page

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": NUL_MESSAGE, "code": "invalid_characters"}, status=400)
    if request.headers.get("HX-Request") == "true":
        return toast(reswap(HttpResponse(status=400), "none"), NUL_MESSAGE, "red")
    return error_page(request, "errors/400.html", {"message": NUL_MESSAGE}, status=400)


class ProductNotFoundMiddleware:
    """
    With DEBUG on (the demo) Django answers a 404 with its technical page instead of
    ``handler404``. The demo shows the product's 404 all the same: an unknown path is answered
    here before Django's resolver raises, and an ``Http404`` a view raises is rendered by the
    handler. With DEBUG off this does nothing (Django calls the handler itself). The unknown
    path's 404 still passes back through ``CommonMiddleware``, so the APPEND_SLASH redirect
    keeps working.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exception:
                return page_not_found(request, exception)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Runs before PageDomainErrorMiddleware's (later in MIDDLEWARE): its NotFound → Http404
        # re-raise would reach Django's DEBUG handler, so a page's NotFound is answered here.
        page_not_found_error = isinstance(exception, NotFound) and not request.path.startswith(
            "/api/"
        )
        if settings.DEBUG and (isinstance(exception, Http404) or page_not_found_error):
            return page_not_found(request, exception)
        return None
