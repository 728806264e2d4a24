from django.urls import path

from sessions_app.memory import api

# Institutional memory (similar sessions, search, reuse a past fix).
urlpatterns = [
    path("ai-sessions/search", api.search, name="api-memory-search"),
    path("ai-sessions/<int:session_id>/similar", api.similar, name="api-memory-similar"),
    path(
        "ai-sessions/<int:session_id>/suggested-fixes/from-session/<int:source_id>",
        api.fix_from_session,
        name="api-memory-fix-from-session",
    ),
]
