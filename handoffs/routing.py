from django.urls import path

from handoffs import consumers

websocket_urlpatterns = [
    path("ws/notifications/", consumers.NotificationsConsumer.as_asgi()),
    path("ws/escalations/", consumers.EscalationsConsumer.as_asgi()),
]
