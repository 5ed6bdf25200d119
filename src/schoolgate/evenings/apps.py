from django.apps import AppConfig


class EveningsConfig(AppConfig):
    name = "schoolgate.evenings"
    verbose_name = "Parents' evenings"

    def ready(self):
        # The booking engine says when time comes free; the waiting lists listen.
        from schoolgate.evenings import demo, tasks
        from schoolgate.evenings.booking.signals import time_freed
        from schoolgate.mis.signals import demo_school_ready

        time_freed.connect(tasks.wake_waiting_lists, dispatch_uid="evenings.wake_waiting_lists")
        # The demo school gets its parents' evening once the mirror is there.
        demo_school_ready.connect(demo.on_demo_school_ready, dispatch_uid="evenings.demo")
