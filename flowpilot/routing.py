"""Every app's websocket routes, in one list; an unknown path is refused, not a 500."""

from django.urls import re_path

from flowpilot.realtime import RefuseUnknownPath
from handoffs.routing import websocket_urlpatterns as handoff_routes

websocket_urlpatterns = [
    *handoff_routes,
    re_path(r"", RefuseUnknownPath()),  # type: ignore[arg-type]  # an ASGI app, as Channels routes
]
