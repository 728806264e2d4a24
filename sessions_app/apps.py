from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "AI sessions"

    def ready(self) -> None:
        # Institutional memory re-indexes a session when its history changes (signal receivers).
        from sessions_app.memory import tasks  # noqa: F401
