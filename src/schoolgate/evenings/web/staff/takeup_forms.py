"""Forms for running an evening: copying it, and uploading teachers' availability."""

from django import forms
from django.utils.translation import gettext_lazy as _

from schoolgate.evenings.web.staff.forms import (
    DATE_WIDGET,
    TIME_WIDGET,
    local_datetime,
    school_zone,
)

MAX_UPLOAD = 1024 * 1024  # an availability file is a few kilobytes


class CopyForm(forms.Form):
    """The new evening's name, first date and (optionally) booking window."""

    name = forms.CharField(
        label=_("Name of the new evening"),
        max_length=200,
        help_text=_("Parents see this, for example “Year 7 parents' evening”."),
        error_messages={"required": _("Give the new evening a name.")},
    )
    first_date = forms.DateField(
        label=_("Date of its first day"),
        widget=DATE_WIDGET,
        help_text=_(
            "Every day moves by the same number of days and keeps its times, for "
            "example 10/03/2027."
        ),
        error_messages={
            "required": _("Give the date of the new evening's first day."),
            "invalid": _("Give a real date, for example 10/03/2027."),
        },
    )
    opens_date = forms.DateField(
        label=_("Booking opens: date (optional)"), widget=DATE_WIDGET, required=False
    )
    opens_time = forms.TimeField(
        label=_("Booking opens: time (optional)"), widget=TIME_WIDGET, required=False
    )
    closes_date = forms.DateField(
        label=_("Booking closes: date (optional)"), widget=DATE_WIDGET, required=False
    )
    closes_time = forms.TimeField(
        label=_("Booking closes: time (optional)"), widget=TIME_WIDGET, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("opens_time", "closes_time"):
            self.fields[name].help_text = _(
                "In the school's time zone (%(zone)s). Leave the booking window blank to "
                "move it by the same number of days as the evening."
            ) % {"zone": str(school_zone())}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the new evening a name."))
        return name

    def clean(self):
        cleaned = super().clean()
        for end in ("opens", "closes"):
            day, time = cleaned.get(f"{end}_date"), cleaned.get(f"{end}_time")
            cleaned[f"booking_{end}"] = None
            if f"{end}_date" in self.errors or f"{end}_time" in self.errors:
                continue
            if (day is None) != (time is None):
                missing = f"{end}_time" if time is None else f"{end}_date"
                self.add_error(missing, _("Give both the date and the time, or neither."))
            elif day is not None:
                try:
                    cleaned[f"booking_{end}"] = local_datetime(day, time)
                except forms.ValidationError as error:
                    self.add_error(f"{end}_time", error)
        opens, closes = cleaned.get("booking_opens"), cleaned.get("booking_closes")
        if (opens is None) != (closes is None) and not self.errors:
            self.add_error(
                "opens_date" if opens is None else "closes_date",
                _("Give both ends of the booking window, or neither."),
            )
        elif opens and closes and closes <= opens:
            self.add_error("closes_date", _("Booking must close after it opens."))
        return cleaned


class AvailabilityForm(forms.Form):
    file = forms.FileField(
        label=_("Availability file (CSV)"),
        help_text=_("One row per teacher and day: teacher, date, from, to. See the format below."),
        error_messages={
            "required": _("Choose a CSV file to upload."),
            "empty": _("The file is empty."),
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 1 MB; is it the right one?"))
        return upload
