from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "handoffs"
    verbose_name = "Hand-offs and notifications"

    def ready(self) -> None:
        # sessions_app's escalate paths (escalation-package/post, the page's Confirm & post)
        # go through the one hand-off service.
        from handoffs.services import escalate_via_handoff
        from sessions_app.services.resolution import register_escalation_writer

        register_escalation_writer(escalate_via_handoff)
