"""
Signals sessions send for features built beside them (institutional memory indexes on these).

``session_history_changed`` (``session_id``): a change that decides whether and how a session is
remembered — it was resolved, reopened, or a resolved session was edited. Sent inside the
writing transaction; receivers defer their work to ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

session_history_changed = Signal()
