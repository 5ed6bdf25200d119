from django.apps import AppConfig


class MisConfig(AppConfig):
    name = "schoolgate.mis"
