from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "schoolgate.accounts"

    def ready(self):
        from schoolgate.accounts import signals

        signals.connect()
