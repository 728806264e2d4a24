from django.urls import URLPattern

# /ai-sessions, messages, facts (AI-sessions issue).
urlpatterns: list[URLPattern] = []
