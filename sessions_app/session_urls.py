from django.urls import path

from sessions_app import views

# Session, chat, task lane and facts pages (AI-sessions issue).
S = "sessions/<int:session_id>"

urlpatterns = [
    path("sessions", views.sessions_list, name="sessions-list"),
    path("sessions/new", views.session_new, name="session-new"),
    path(S, views.session_detail, name="session-detail"),
    path(f"{S}/messages", views.send_message, name="session-send"),
    path(f"{S}/retry", views.retry_reply, name="session-retry"),
    path(f"{S}/steps/<int:step_id>/stream", views.stream_reply, name="session-stream"),
    path(f"{S}/lane", views.lane_fragment, name="session-lane"),
    path(f"{S}/lane/<str:uid>", views.update_item, name="session-lane-item"),
    path(f"{S}/lane/<str:uid>/promote", views.promote_item, name="session-promote"),
    path(f"{S}/facts", views.add_note, name="session-facts"),
    path(f"{S}/facts/<int:fact_id>", views.edit_fact, name="session-fact"),
    path(f"{S}/facts/<int:fact_id>/delete", views.delete_fact, name="session-fact-delete"),
    path(f"{S}/ticket", views.link_ticket, name="session-ticket"),
    path(f"{S}/reopen", views.reopen_session, name="session-reopen"),
]
