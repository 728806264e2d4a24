"""A typed request for page views: ``request.user`` is a signed-in User, ``request.htmx`` exists."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
