from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("scripts.api.urls")),
    path("", include("sessions_app.api.urls")),
    path("", include("sessions_app.memory.api_urls")),
    path("", include("handoffs.api.urls")),
    path("", include("psa.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("scripts.urls")),
    path("", include("sessions_app.urls")),
    path("", include("handoffs.urls")),
    path("", include("accounts.urls")),
    path("", include("psa.urls")),
    path("", include("front.urls")),
]

handler403 = "flowpilot.views.permission_denied"
handler404 = "flowpilot.views.page_not_found"
handler500 = "flowpilot.views.server_error"
