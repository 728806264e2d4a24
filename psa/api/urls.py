from django.urls import path

from psa.api import views

P = "integrations/psa"

urlpatterns = [
    path(P, views.integration, name="api-psa-integration"),
    path(f"{P}/test", views.integration_test, name="api-psa-test"),
    path(f"{P}/tickets", views.tickets, name="api-psa-tickets"),
    path(f"{P}/tickets/<int:ticket_id>", views.ticket_detail, name="api-psa-ticket"),
    path(
        f"{P}/tickets/<int:ticket_id>/resources",
        views.ticket_resources,
        name="api-psa-ticket-resources",
    ),
    path(f"{P}/boards", views.boards, name="api-psa-boards"),
    path(f"{P}/boards/<int:board_id>/statuses", views.board_statuses, name="api-psa-statuses"),
    path(f"{P}/members", views.members, name="api-psa-members"),
]
