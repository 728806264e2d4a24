from django.apps import AppConfig
from django.db.models.signals import post_save


class ScriptsConfig(AppConfig):
    name = "scripts"
    verbose_name = "Script library"

    def ready(self) -> None:
        from accounts.models import Account
        from scripts import fix_card, selectors, signals
        from sessions_app import fix_context
        from sessions_app.services import previews

        post_save.connect(
            signals.give_new_account_the_starter_library,
            sender=Account,
            dispatch_uid="scripts-starter-library",
        )
        previews.register_script_run_source(selectors.script_runs)
        fix_context.register_fix_card_provider(fix_card.fix_card_context)
