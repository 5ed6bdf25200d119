"""What the booking engine tells the rest of the evenings app, without importing it.

`time_freed` is sent inside the change's transaction when a confirmed appointment's
time comes free (cancelled, moved, or cancelled for an absent teacher), with
`evening_id` and `teacher_ids`. The waiting lists listen (schoolgate.evenings.tasks,
connected in apps.py), so a receiver's writes commit or roll back with the change."""

from django.dispatch import Signal

time_freed = Signal()
