"""Forms of the teacher's tools and the organiser's attendance page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from schoolgate.evenings.models import Appointment
from schoolgate.evenings.running.teacher_tools import NOT_MARKED, NOTE_MAX_LENGTH
from schoolgate.evenings.web.staff.teacher_forms import BreakForm

ATTENDANCE_CHOICES = [
    (Appointment.Attendance.ATTENDED, _("Attended")),
    (Appointment.Attendance.DID_NOT_ATTEND, _("Did not attend")),
    (NOT_MARKED, _("Not marked")),
]


def attendance_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Attendance"),
        choices=ATTENDANCE_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose attended, did not attend or not marked.")},
    )


class AppointmentRecordForm(forms.Form):
    """The teacher's record of one appointment: attendance (once it may be marked) and
    their private note."""

    attendance = attendance_field()
    note = forms.CharField(
        label=_("Your private note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Only you can see this note: not other teachers, not the organisers, not the "
            "parents. It is deleted some time after the evening."
        ),
    )

    def __init__(self, *args, can_mark: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_mark:
            del self.fields["attendance"]


class AttendanceMarkForm(forms.Form):
    """The organiser marks one appointment (a form per appointment on the page)."""

    attendance = attendance_field()


class OwnBreakForm(BreakForm):
    """A break for the teacher themself: the organiser's break form without 'who'."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["who"]
        del self.fields["teachers"]
