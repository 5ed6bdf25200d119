from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "schoolgate.ops"
    verbose_name = "Operations"

    def ready(self):
        from schoolgate.ops import checks  # noqa: F401  (registers the deploy checks)
