from django.urls import path

from sessions_app.api import fix_views

# suggested-fixes, previews, resolve/escalate posts. The decision and draft routes of a fix
# belong to the script library, which serves them under the same prefix.
FIX = "ai-sessions/<int:session_id>/suggested-fixes/<int:fix_id>"

urlpatterns = [
    path(
        "ai-sessions/<int:session_id>/suggested-fixes/active",
        fix_views.active_fix,
        name="api-fix-active",
    ),
    path(f"{FIX}/apply", fix_views.apply, name="api-fix-apply"),
    path(f"{FIX}/outcome", fix_views.outcome, name="api-fix-outcome"),
    path(
        f"{FIX}/ai-outcome-proposal",
        fix_views.ai_outcome_proposal,
        name="api-fix-ai-outcome-proposal",
    ),
    path(
        "ai-sessions/<int:session_id>/resolution-note/preview",
        fix_views.resolution_preview,
        name="api-resolution-preview",
    ),
    path(
        "ai-sessions/<int:session_id>/escalation-package/preview",
        fix_views.escalation_preview,
        name="api-escalation-preview",
    ),
    path(
        "ai-sessions/<int:session_id>/resolution-note/post",
        fix_views.resolution_post,
        name="api-resolution-post",
    ),
    path(
        "ai-sessions/<int:session_id>/escalation-package/post",
        fix_views.escalation_post,
        name="api-escalation-post",
    ),
]
