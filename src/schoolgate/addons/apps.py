from django.apps import AppConfig
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_save


class AddonsConfig(AppConfig):
    name = "schoolgate.addons"

    def ready(self):
        from schoolgate.addons import selectors
        from schoolgate.addons.models import AddonSettings

        request_started.connect(selectors.start_request, dispatch_uid="addons-start")
        request_finished.connect(selectors.end_request, dispatch_uid="addons-end")
        post_save.connect(selectors.forget_settings, sender=AddonSettings, dispatch_uid="addons")
        post_delete.connect(
            selectors.forget_settings, sender=AddonSettings, dispatch_uid="addons-d"
        )
