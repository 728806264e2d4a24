from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Login/logout receivers that keep LoginSession rows in step with Django sessions.
        from accounts import signals  # noqa: F401
