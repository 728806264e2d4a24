from django.urls import URLPattern

# Session, chat, task lane and facts pages (AI-sessions issue).
urlpatterns: list[URLPattern] = []
