from django.urls import path

from front import tickets, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tickets/<int:ticket_id>/link-session", tickets.link_session, name="ticket-link-session"),
]
