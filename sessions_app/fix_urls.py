from django.urls import URLPattern

# Fix card, outcome dialogs and preview pages (fixes/previews issue).
urlpatterns: list[URLPattern] = []
