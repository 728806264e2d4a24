from django.urls import URLPattern

# suggested-fixes, previews, resolve/escalate posts (fixes/previews issue).
urlpatterns: list[URLPattern] = []
