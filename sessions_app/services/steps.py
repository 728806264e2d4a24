"""The engineer's messages: validation and the insert shared by a new session and a chat turn."""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from flowpilot.errors import Unprocessable
from sessions_app.models import AISession, AISessionStep, StepRole

# Documented limit of one engineer message (API field error, page form error).
MESSAGE_LIMIT = 8000


def clean_message(content: str) -> str:
    """Strip and check one message: empty or over the limit → 422 naming the field."""
    text = (content or "").strip()
    if not text:
        raise Unprocessable("Type a message first.", code="message_empty")
    if len(text) > MESSAGE_LIMIT:
        raise Unprocessable(
            f"Messages are limited to {MESSAGE_LIMIT:,} characters ({len(text):,} given); "
            "paste long output in parts.",
            code="message_too_long",
        )
    return text


def create_user_step(*, session: AISession, user: User, text: str, now: datetime) -> AISessionStep:
    """Insert an engineer's message (already cleaned) as a step of the session."""
    return AISessionStep.objects.create(
        account_id=session.account_id,
        session=session,
        author=user,
        role=StepRole.USER,
        content=text,
        raw_content=text,
        created_at=now,
    )
