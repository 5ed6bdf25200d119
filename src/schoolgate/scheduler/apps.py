from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "schoolgate.scheduler"
    verbose_name = "Scheduler"

    def ready(self):
        # Each app registers its scheduled jobs in its tasks module.
        from schoolgate.scheduler.registry import autodiscover

        autodiscover()
