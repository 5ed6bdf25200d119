from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AddonsConfig(AppConfig):
    name = "schoolgate.addons"

    def ready(self):
        from schoolgate.addons import selectors
        from schoolgate.addons.models import AddonSettings

        post_save.connect(selectors.forget_settings, sender=AddonSettings, dispatch_uid="addons")
        post_delete.connect(
            selectors.forget_settings, sender=AddonSettings, dispatch_uid="addons-d"
        )
