from django.urls import path

from handoffs import views

H = "escalations/<uuid:handoff_id>"

urlpatterns = [
    path("escalations", views.queue, name="escalation-queue"),
    path(H, views.handoff_detail, name="handoff-detail"),
    path(f"{H}/claim", views.claim, name="handoff-claim"),
    path(f"{H}/chips/hide", views.hide_chips, name="handoff-hide-chips"),
    path(f"{H}/send", views.send, name="handoff-send"),
    path(f"{H}/assessment/retry", views.retry_assessment, name="handoff-assessment-retry"),
    path("notifications", views.notifications, name="notifications"),
    path("notifications/read-all", views.notifications_read_all, name="notifications-read-all"),
    path(
        "notifications/<int:notification_id>/read",
        views.notification_read,
        name="notification-read",
    ),
    path("analytics/escalations", views.analytics, name="analytics-escalations"),
]
