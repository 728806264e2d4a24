from django.urls import path

from psa import views

urlpatterns = [
    path("settings/psa", views.settings_page, name="psa-settings"),
    path("settings/psa/test", views.settings_test, name="psa-settings-test"),
    path("settings/psa/writeback", views.settings_writeback, name="psa-settings-writeback"),
    path("tickets", views.tickets_list, name="tickets-list"),
    path("tickets/new", views.ticket_new, name="ticket-new"),
    path("tickets/<int:ticket_id>", views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:ticket_id>/resources", views.ticket_assign, name="ticket-assign"),
]
