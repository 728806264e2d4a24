from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView

from flowpilot import health

# Redoc styles itself with injected <style> elements and renders in a blob: worker: the docs
# page alone relaxes style-src (never script-src) for that.
api_docs = login_required(
    csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/docs.html")
    )
)

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("scripts.api.urls")),
    path("", include("sessions_app.api.urls")),
    path("", include("sessions_app.memory.api_urls")),
    path("", include("handoffs.api.urls")),
    path("", include("psa.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("account/status", health.status_page, name="system-status"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularJSONAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("", include("scripts.urls")),
    path("", include("sessions_app.urls")),
    path("", include("handoffs.urls")),
    path("", include("accounts.urls")),
    path("", include("psa.urls")),
    path("", include("front.urls")),
]

handler400 = "flowpilot.views.bad_request"
handler403 = "flowpilot.views.permission_denied"
handler404 = "flowpilot.views.page_not_found"
handler500 = "flowpilot.views.server_error"
