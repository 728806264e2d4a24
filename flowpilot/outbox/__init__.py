"""
After-commit task dispatch that never fails the request whose write committed.

``dispatch_on_commit(task, *args)`` sends the Celery task once the transaction commits. When the
broker cannot take it (Redis down, or a failing eager run) the call is stored as a
``PendingTask`` row and the periodic sweep (``flowpilot.outbox.sweep``, Celery beat; or
``manage.py sweep_outbox``) sends it again later. Tasks sent this way must be idempotent: a
stored call can be sent more than once.
"""
