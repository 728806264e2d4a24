from django.urls import path

from sessions_app.api import views

# /ai-sessions, messages, facts (AI-sessions issue).
S = "ai-sessions/<int:session_id>"

urlpatterns = [
    path("ai-sessions", views.session_list, name="api-sessions"),
    path(S, views.session_detail, name="api-session"),
    path(f"{S}/reopen", views.reopen, name="api-session-reopen"),
    path(f"{S}/messages", views.messages, name="api-session-messages"),
    path(f"{S}/messages/retry", views.retry, name="api-session-retry"),
    path(f"{S}/facts", views.fact_list, name="api-session-facts"),
    path(f"{S}/facts/promote", views.promote, name="api-session-facts-promote"),
    path(f"{S}/facts/<int:fact_id>", views.fact_detail, name="api-session-fact"),
]
