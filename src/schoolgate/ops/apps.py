from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "schoolgate.ops"
    verbose_name = "Operations"

    def ready(self):
        from django.core.signals import request_finished

        from schoolgate.ops import checks  # noqa: F401  (registers the deploy checks)
        from schoolgate.ops.middleware import clear_request_id

        request_finished.connect(clear_request_id, dispatch_uid="schoolgate.ops.request_id")
