from django.apps import AppConfig


class EveningsConfig(AppConfig):
    name = "schoolgate.evenings"
    verbose_name = "Parents' evenings"

    def ready(self):
        # The booking engine says when time comes free; the waiting lists listen.
        from schoolgate.evenings import tasks
        from schoolgate.evenings.booking.signals import time_freed

        time_freed.connect(tasks.wake_waiting_lists, dispatch_uid="evenings.wake_waiting_lists")
