from django.urls import path

from scripts import builder_views, fix_views, views

FIX = "sessions/<int:session_id>/fix/<int:fix_id>"

urlpatterns = [
    path("scripts", views.library_page, name="scripts-library"),
    path("scripts/generate", views.pick_page, name="scripts-generate"),
    path("scripts/templates/new", views.template_new, name="scripts-template-new"),
    path("scripts/templates/<int:template_id>", views.generator_page, name="scripts-template"),
    path(
        "scripts/templates/<int:template_id>/edit",
        views.template_edit,
        name="scripts-template-edit",
    ),
    path(
        "scripts/templates/<int:template_id>/delete",
        views.template_delete,
        name="scripts-template-delete",
    ),
    path(
        "scripts/drafts/stop-asking",
        fix_views.drafts_stop_asking,
        name="scripts-drafts-stop-asking",
    ),
    path("scripts/drafts/<int:draft_id>", fix_views.draft_page, name="scripts-draft"),
    path(
        "scripts/drafts/<int:draft_id>/accept", fix_views.draft_accept, name="scripts-draft-accept"
    ),
    path(
        "scripts/drafts/<int:draft_id>/reject", fix_views.draft_reject, name="scripts-draft-reject"
    ),
    path("scripts/builder", builder_views.builder_list, name="scripts-builder"),
    path(
        "scripts/builder/<int:builder_id>",
        builder_views.builder_page,
        name="scripts-builder-session",
    ),
    path(
        "scripts/builder/<int:builder_id>/save",
        builder_views.builder_action,
        name="scripts-builder-action",
    ),
    path(
        "scripts/builder/<int:builder_id>/delete",
        builder_views.builder_delete,
        name="scripts-builder-delete",
    ),
    # The script library's flows on a suggested fix, under the session's fix routes.
    path(f"{FIX}/decision", fix_views.decide, name="session-fix-decision"),
    path(f"{FIX}/script", fix_views.script_preview, name="scripts-fix-script"),
]
