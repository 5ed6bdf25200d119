from django.apps import AppConfig


class EveningsConfig(AppConfig):
    name = "schoolgate.evenings"
    verbose_name = "Parents' evenings"
