from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "schoolgate.portal"
    verbose_name = "Parent portal"
