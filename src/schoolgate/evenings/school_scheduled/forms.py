"""Forms of the school-scheduled pages. The parent's and the teacher's choices are
one field per child and teacher (or pupil), built from what they may choose, so a
posted id that is not theirs is simply not a field (the view 404s on it)."""

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schoolgate.evenings.school_scheduled.models import DEFAULT_TIME_LIMIT, TeacherFlag
from schoolgate.evenings.school_scheduled.wishes import MAX_TIME_LIMIT

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class OpenForm(forms.Form):
    close_date = forms.DateField(label=_("Wishes close: date"), widget=DATE_WIDGET)
    close_time = forms.TimeField(label=_("Wishes close: time"), widget=TIME_WIDGET)
    time_limit = forms.IntegerField(
        label=_("Time the solver may take, in seconds"),
        min_value=1,
        max_value=MAX_TIME_LIMIT,
        initial=DEFAULT_TIME_LIMIT,
        help_text=_("The schedule is built while you wait; 30 seconds suits most schools."),
    )

    def wishes_close(self) -> datetime:
        data = self.cleaned_data
        return datetime.combine(
            data["close_date"], data["close_time"], tzinfo=timezone.get_current_timezone()
        )


class WindowForm(forms.Form):
    arrive_after = forms.TimeField(
        label=_("We can arrive from (optional)"), required=False, widget=TIME_WIDGET
    )
    leave_by = forms.TimeField(
        label=_("We must leave by (optional)"), required=False, widget=TIME_WIDGET
    )
    one_visit = forms.TypedChoiceField(
        label=_("Brothers and sisters"),
        choices=[
            ("yes", _("One visit: see all our children's teachers together")),
            ("no", _("Separate visits for each child are fine")),
        ],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )

    def clean(self):
        data = super().clean()
        arrive, leave = data.get("arrive_after"), data.get("leave_by")
        if arrive and leave and leave <= arrive:
            self.add_error("leave_by", _("The time you must leave must be after you can arrive."))
        return data


def rank_choices(count: int) -> list[tuple[str, str]]:
    ordinal = _("Choice %(n)s")
    return [("", _("Not this time"))] + [(str(n), ordinal % {"n": n}) for n in range(1, count + 1)]


FLAG_CHOICES = [("", _("No flag")), *TeacherFlag.Flag.choices]
