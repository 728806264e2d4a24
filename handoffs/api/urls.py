from django.urls import path

from handoffs.api import views

# Hand-off routes live under /ai-sessions/ (the session's URL space); this app owns the flow.
S = "ai-sessions/<int:session_id>"

urlpatterns = [
    path("ai-sessions/escalations", views.queue, name="api-escalation-queue"),
    path(f"{S}/handoff", views.handoff, name="api-session-handoff"),
    path(f"{S}/escalate", views.escalate, name="api-session-escalate"),
    path(f"{S}/handoffs/<uuid:handoff_id>/claim", views.claim, name="api-handoff-claim"),
    path(
        f"{S}/handoffs/<uuid:handoff_id>/assessment/retry",
        views.retry_assessment,
        name="api-handoff-assessment-retry",
    ),
    path("notifications", views.notifications, name="api-notifications"),
    path("notifications/read-all", views.notifications_read_all, name="api-notifications-read-all"),
    path(
        "notifications/<int:notification_id>/read",
        views.notification_read,
        name="api-notification-read",
    ),
    path(
        "analytics/flowpilot/escalations",
        views.escalation_analytics,
        name="api-analytics-escalations",
    ),
]
