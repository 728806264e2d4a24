from django.apps import AppConfig


class ScriptsConfig(AppConfig):
    name = "scripts"
    verbose_name = "Script library"
