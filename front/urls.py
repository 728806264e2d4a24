from django.urls import path

from front import tickets, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/panels/<slug:key>", views.panel, name="dashboard-panel"),
    path("palette/sessions", views.palette_sessions, name="palette-sessions"),
    path("tickets/<int:ticket_id>/link-session", tickets.link_session, name="ticket-link-session"),
]
