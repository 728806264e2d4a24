from django.urls import path

from sessions_app.memory import views

# Institutional memory pages: "Solved before", a past session, "Use this fix", history search.
S = "sessions/<int:session_id>"

urlpatterns = [
    path("sessions/history", views.search_page, name="memory-search"),
    path(f"{S}/solved-before", views.solved_before, name="session-solved-before"),
    path(f"{S}/solved-before/<int:source_id>", views.past_session, name="session-past"),
    path(f"{S}/solved-before/<int:source_id>/use", views.use_fix, name="session-use-past-fix"),
]
