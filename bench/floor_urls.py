"""
The bench's stack floor (bench_handoffs.py): the product's URL conf plus two no-op endpoints,
used only while the floor is measured. One is a DRF view with the project's defaults (JWT
authentication with its user row and revocation check, IsAuthenticated, the JSON renderer,
the exception handler); the other a plain Django view (the middleware and the WSGI handler
alone). Neither touches the database beyond authentication.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response


@api_view(["POST"])
def drf_noop(request: Request) -> Response:
    return Response({"ok": True})


@csrf_exempt
def django_noop(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/v1/bench-floor/drf", drf_noop),
    path("api/v1/bench-floor/django", django_noop),
    path("", include("flowpilot.urls")),
]
