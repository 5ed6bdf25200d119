"""Forms for the parents' booking pages: validation at the edge, in the parent's terms."""

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TIME_FORMATS = ["%H:%M", "%H.%M", "%H%M", "%H"]
MESSAGE_LENGTH = 1000


class VisitForm(forms.Form):
    """When the parent can be there (and which day), for the automatic planner. The
    teachers are ticked on the same page; the view checks them against the children.

    A time left blank means the start (or the end) of the day; the day may be left out
    when the evening has only one."""

    day = forms.TypedChoiceField(
        label=gettext_lazy("Which day?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the day you will come")},
    )
    earliest = forms.TimeField(
        label=gettext_lazy("The earliest you can be there"),
        help_text=gettext_lazy(
            "Use the 24-hour clock, for example 16:30. Leave it blank to start when the "
            "evening does."
        ),
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("Enter the earliest time as hours and minutes, like 16:30"),
        },
    )
    latest = forms.TimeField(
        label=gettext_lazy("The latest you can stay until"),
        help_text=gettext_lazy(
            "Use the 24-hour clock, for example 18:45. Leave it blank to stay until the "
            "evening ends."
        ),
        required=False,
        input_formats=TIME_FORMATS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("Enter the latest time as hours and minutes, like 18:45"),
        },
    )

    def __init__(self, *args, days, **kwargs):
        super().__init__(*args, **kwargs)
        self.days = {d.pk: d for d in days}
        self.fields["day"].choices = [
            (d.pk, date_format(timezone.localtime(d.starts_at), "l j F Y")) for d in days
        ]
        if len(days) == 1:
            self.fields["day"].widget = forms.HiddenInput()
            self.fields["day"].required = False
        for name in ("earliest", "latest"):
            self.fields[name].widget.attrs["class"] = "govuk-input govuk-input--width-5"

    def clean(self):
        data = super().clean()
        if len(self.days) == 1 and data.get("day") in (None, ""):
            data["day"] = next(iter(self.days))
        day = self.days.get(data.get("day"))
        if day is None or self.has_error("earliest") or self.has_error("latest"):
            return data
        date = timezone.localdate(day.starts_at)
        zone = timezone.get_current_timezone()
        earliest, latest = data.get("earliest"), data.get("latest")
        data["earliest_at"] = (
            timezone.make_aware(datetime.combine(date, earliest), zone)
            if earliest is not None
            else day.starts_at
        )
        data["latest_at"] = (
            timezone.make_aware(datetime.combine(date, latest), zone)
            if latest is not None
            else day.ends_at
        )
        if data["latest_at"] <= data["earliest_at"]:
            self.add_error("latest", _("The latest time must be after the earliest time"))
        return data


class MessagesForm(forms.Form):
    """An optional message to each teacher: one `message-<appointment id>` field each."""

    def __init__(self, *args, appointments, **kwargs):
        super().__init__(*args, **kwargs)
        for appointment in appointments:
            self.fields[f"message-{appointment.pk}"] = forms.CharField(
                label=_("Message to %(teacher)s about %(pupil)s (optional)")
                % {
                    "teacher": appointment.teacher.staff.display_name,
                    "pupil": appointment.pupil.display_name,
                },
                help_text=_("For example, what you would like to discuss"),
                required=False,
                max_length=MESSAGE_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={
                    "max_length": _("Keep the message to %(max)s characters or fewer")
                    % {"max": MESSAGE_LENGTH}
                },
            )

    def messages(self) -> dict[int, str]:
        return {
            int(name.removeprefix("message-")): value.strip()
            for name, value in self.cleaned_data.items()
        }
