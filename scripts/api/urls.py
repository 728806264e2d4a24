from django.urls import path

from scripts.api import views

FIX = "ai-sessions/<int:session_id>/suggested-fixes/<int:fix_id>"

urlpatterns = [
    path("scripts/templates", views.template_list, name="api-script-templates"),
    path(
        "scripts/templates/<int:template_id>",
        views.template_detail,
        name="api-script-template",
    ),
    path("scripts/categories", views.category_list, name="api-script-categories"),
    path("scripts/generate", views.generate, name="api-script-generate"),
    path("scripts/review", views.review, name="api-script-review"),
    path("draft-templates", views.draft_list, name="api-draft-templates"),
    path("draft-templates/<int:draft_id>", views.draft_detail, name="api-draft-template"),
    path("draft-templates/<int:draft_id>/accept", views.draft_accept, name="api-draft-accept"),
    path("draft-templates/<int:draft_id>/reject", views.draft_reject, name="api-draft-reject"),
    path("script-builder/sessions", views.builder_sessions, name="api-builder-sessions"),
    # A fix's decision and the inline builder's submit: script-library flows on a fix.
    path(f"{FIX}/decision", views.fix_decision, name="api-fix-decision"),
    path(f"{FIX}/draft", views.fix_draft, name="api-fix-draft"),
]
