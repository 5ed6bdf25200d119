from django.apps import AppConfig


class AddonsConfig(AppConfig):
    name = "schoolgate.addons"
