from typing import Any

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

        # The junior's session page says who picked the escalation up (live on claim).
        from handoffs.selectors import session_pickup_context
        from sessions_app.fix_context import register_fix_card_provider

        register_fix_card_provider(session_pickup_context)

        # The analytics' time to first action: a step saved after a pick-up stamps the hand-off.
        from django.db.models.signals import post_save

        from sessions_app.models import AISessionStep

        post_save.connect(_step_saved, sender=AISessionStep, dispatch_uid="handoffs.first_action")


def _step_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    # A pick-up points the session at the senior (escalated_to): a step of a session that
    # nobody picked up costs no query (the chat turn's session is at hand).
    if sender.session.is_cached(instance) and instance.session.escalated_to_id is None:
        return
    from handoffs.services import record_first_action

    record_first_action(session_id=instance.session_id, at=instance.created_at)
