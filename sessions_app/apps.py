from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "AI sessions"

    def ready(self) -> None:
        # Institutional memory: re-index on history changes, past sessions in the chat prompt.
        from sessions_app.memory import wiring

        wiring.connect()
