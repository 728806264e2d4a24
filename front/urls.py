from django.urls import path

from front import tickets, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/panels/<slug:key>", views.panel, name="dashboard-panel"),
    path("tickets/<int:ticket_id>/link-session", tickets.link_session, name="ticket-link-session"),
]
