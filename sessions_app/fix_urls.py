from django.urls import path

from sessions_app import fix_views

# Fix card, outcome dialogs and preview pages (fixes/previews issue).
FIX = "sessions/<int:session_id>/fix/<int:fix_id>"

urlpatterns = [
    path("sessions/<int:session_id>/fix", fix_views.fix_page, name="session-fix"),
    path("sessions/<int:session_id>/fix/card", fix_views.fix_card, name="session-fix-card"),
    path(f"{FIX}/apply", fix_views.apply, name="session-fix-apply"),
    path(f"{FIX}/outcome", fix_views.outcome, name="session-fix-outcome"),
    path(f"{FIX}/not-yet", fix_views.dismiss_proposal, name="session-fix-not-yet"),
    path(
        "sessions/<int:session_id>/preview/<str:kind>",
        fix_views.preview,
        name="session-preview",
    ),
    path("sessions/<int:session_id>/post/<str:kind>", fix_views.post, name="session-post"),
]
