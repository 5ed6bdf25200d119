"""The organiser's forms: what each setting means, checks that say what and where.

Dates and times are entered in the school's time zone and turned into aware datetimes
here; the set-up services (`schoolgate.evenings.setup.services`) check the rest, and their
refusals are put back on the fields by `add_setup_error`."""

from datetime import datetime

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from schoolgate.core.local_time import SkippedTime, aware_local, school_zone
from schoolgate.evenings.models import Evening, EveningDay
from schoolgate.mis.models import Pupil, TeachingGroup

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


NUMBER = {"inputmode": "numeric"}


def local_datetime(day, time) -> datetime:
    """A date and a time on the school's clock, as an aware datetime; a time the clocks
    skip (the spring change) is refused rather than silently moved."""
    try:
        return aware_local(datetime.combine(day, time.replace(second=0, microsecond=0)))
    except SkippedTime:
        raise forms.ValidationError(
            _("%(time)s does not exist on %(date)s: the clocks go forward then."),
            params={"time": time.strftime("%H:%M"), "date": day.isoformat()},
        ) from None


def local_parts(value: datetime) -> tuple:
    local = timezone.localtime(value, school_zone())
    return local.date(), local.time().replace(second=0, microsecond=0)


def day_label(day: EveningDay) -> str:
    start, end = (timezone.localtime(v, school_zone()) for v in (day.starts_at, day.ends_at))
    return f"{date_format(start, 'l j F Y')}, {start:%H:%M}–{end:%H:%M}"


def add_setup_error(form, error, fields: dict[str, str] | None = None) -> None:
    """Put a set-up service's refusal on the form field it concerns (or the form)."""
    fields = fields or {}
    name = fields.get(error.field, error.field)
    form.add_error(name if name in form.fields else None, error.message)


def minutes_field(label, *, required=True, minimum=1, help_text=""):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=minimum,
        max_value=600,
        help_text=help_text,
        widget=forms.NumberInput(attrs=NUMBER),
    )


class DayForm(forms.Form):
    """One session: a date with a start and an end time."""

    date = forms.DateField(
        label=_("Date"), widget=DATE_WIDGET, help_text=_("For example, 10/03/2027")
    )
    starts = forms.TimeField(
        label=_("Starts at"), widget=TIME_WIDGET, help_text=_("For example, 16:00")
    )
    ends = forms.TimeField(
        label=_("Ends at"), widget=TIME_WIDGET, help_text=_("For example, 19:00")
    )

    def clean(self):
        cleaned = super().clean()
        day, starts, ends = cleaned.get("date"), cleaned.get("starts"), cleaned.get("ends")
        if day is None or starts is None or ends is None:
            return cleaned
        try:
            cleaned["starts_at"] = local_datetime(day, starts)
        except forms.ValidationError as error:
            self.add_error("starts", error)
        try:
            cleaned["ends_at"] = local_datetime(day, ends)
        except forms.ValidationError as error:
            self.add_error("ends", error)
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends", _("The day must end after it starts."))
        return cleaned

    @classmethod
    def initial_for(cls, day: EveningDay) -> dict:
        date, starts = local_parts(day.starts_at)
        return {"date": date, "starts": starts, "ends": local_parts(day.ends_at)[1]}


class BaseDayFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.days():
            raise forms.ValidationError(_("Give the evening at least one day."))

    def days(self) -> list[tuple[datetime, datetime]]:
        return [
            (form.cleaned_data["starts_at"], form.cleaned_data["ends_at"])
            for form in self.forms
            if form.cleaned_data.get("starts_at")
        ]


# The first day is needed; two more may be given now, and any number later.
DayFormSet = forms.formset_factory(
    DayForm, formset=BaseDayFormSet, extra=2, min_num=1, validate_min=True, max_num=3
)


class EveningForm(forms.Form):
    """An evening's settings (all but its days): create and edit."""

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("Parents see this, for example “Year 7 parents' evening”."),
    )
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What parents should know: where to go, what to bring."),
    )
    slot_minutes = minutes_field(
        _("Appointment length in minutes"),
        help_text=_(
            "The usual length of one appointment. Teachers and classes can have longer "
            "ones, in whole multiples of it."
        ),
    )
    mode = forms.ChoiceField(
        label=_("How meetings take place"),
        choices=Evening.Mode.choices,
        widget=forms.RadioSelect,
    )
    opens_date = forms.DateField(label=_("Booking opens: date"), widget=DATE_WIDGET)
    opens_time = forms.TimeField(label=_("Booking opens: time"), widget=TIME_WIDGET)
    closes_date = forms.DateField(label=_("Booking closes: date"), widget=DATE_WIDGET)
    closes_time = forms.TimeField(label=_("Booking closes: time"), widget=TIME_WIDGET)
    cutoff_hours = forms.IntegerField(
        label=_("Cut-off in hours (optional)"),
        required=False,
        min_value=0,
        max_value=720,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_(
            "Parents cannot book, change or cancel an appointment within this many hours "
            "of it. Leave blank for no cut-off."
        ),
    )
    year_groups = forms.TypedMultipleChoiceField(
        label=_("Year groups"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Pupils in any of these years may be booked for."),
    )
    registration_groups = forms.ModelMultipleChoiceField(
        label=_("Registration groups"),
        queryset=TeachingGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("And pupils in any of these registration groups, whatever their year."),
    )
    max_per_pupil = forms.IntegerField(
        label=_("Most appointments per pupil (optional)"),
        required=False,
        min_value=1,
        max_value=100,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_("Leave blank for no limit."),
    )
    max_per_parent = forms.IntegerField(
        label=_("Most appointments per parent (optional)"),
        required=False,
        min_value=1,
        max_value=200,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_("Across all their children. Leave blank for no limit."),
    )
    travel_gap_minutes = minutes_field(
        _("Travel gap in minutes"),
        minimum=0,
        help_text=_(
            "Time a parent needs to get from one room to another between in-person "
            "appointments. 0 for none."
        ),
    )
    split_families = forms.ChoiceField(
        label=_("Parents who live apart"),
        choices=Evening.SplitFamilies.choices,
        widget=forms.RadioSelect,
    )

    teachers_set_breaks = forms.BooleanField(
        label=_("Teachers may set their own breaks until booking opens"),
        required=False,
        help_text=_(
            "Each teacher can then add and remove breaks for themself on their own page. "
            "Once booking opens, only you can change breaks."
        ),
    )
    waiting_offer_hours = forms.IntegerField(
        label=_("Hours a freed time is held for the next family on the waiting list"),
        required=False,
        min_value=1,
        max_value=168,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_(
            "When an appointment is cancelled, the first family waiting for that teacher "
            "is offered the time for this long, then the next family. Leave blank for 24."
        ),
    )

    SETUP_FIELDS = {
        "booking_opens": "opens_date",
        "booking_closes": "closes_date",
        "days": None,
    }

    def __init__(self, *args, evening: Evening | None = None, **kwargs):
        if evening is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(evening)
        kwargs.setdefault(
            "initial",
            {
                "slot_minutes": 10,
                "travel_gap_minutes": 0,
                "mode": Evening.Mode.IN_PERSON,
                "split_families": Evening.SplitFamilies.SHARED,
                "teachers_set_breaks": False,
                "waiting_offer_hours": 24,
            },
        )
        super().__init__(*args, **kwargs)
        chosen = list(evening.year_groups) if evening else []
        years = set(
            Pupil.objects.filter(on_roll=True, year_group__isnull=False)
            .values_list("year_group", flat=True)
            .distinct()
        ) | set(chosen)
        self.fields["year_groups"].choices = [
            (year, _("Year %(year)s") % {"year": year}) for year in sorted(years)
        ]
        current = Q(kind=TeachingGroup.Kind.REGISTRATION, current=True)
        if evening is not None:
            current |= Q(pk__in=evening.registration_groups.values("pk"))
        self.fields["registration_groups"].queryset = TeachingGroup.objects.filter(
            current
        ).order_by("year_group", "name")
        zone = str(school_zone())
        for name in ("opens_time", "closes_time"):
            self.fields[name].help_text = _("In the school's time zone (%(zone)s).") % {
                "zone": zone
            }

    @staticmethod
    def initial_for(evening: Evening) -> dict:
        opens_date, opens_time = local_parts(evening.booking_opens)
        closes_date, closes_time = local_parts(evening.booking_closes)
        return {
            "name": evening.name,
            "description": evening.description,
            "slot_minutes": evening.slot_minutes,
            "mode": evening.mode,
            "opens_date": opens_date,
            "opens_time": opens_time,
            "closes_date": closes_date,
            "closes_time": closes_time,
            "cutoff_hours": evening.cutoff_hours,
            "year_groups": list(evening.year_groups),
            "registration_groups": list(evening.registration_groups.all()),
            "max_per_pupil": evening.max_per_pupil,
            "max_per_parent": evening.max_per_parent,
            "travel_gap_minutes": evening.travel_gap_minutes,
            "split_families": evening.split_families,
            "teachers_set_breaks": evening.teachers_set_breaks,
            "waiting_offer_hours": evening.waiting_offer_hours,
        }

    def clean_waiting_offer_hours(self):
        hours = self.cleaned_data["waiting_offer_hours"]
        return 24 if hours is None else hours

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the evening a name."))
        return name

    def clean(self):
        cleaned = super().clean()
        for end in ("opens", "closes"):
            day, time = cleaned.get(f"{end}_date"), cleaned.get(f"{end}_time")
            if day is not None and time is not None:
                try:
                    cleaned[f"booking_{end}"] = local_datetime(day, time)
                except forms.ValidationError as error:
                    self.add_error(f"{end}_time", error)
        opens, closes = cleaned.get("booking_opens"), cleaned.get("booking_closes")
        if opens and closes and closes <= opens:
            self.add_error("closes_date", _("Booking must close after it opens."))
        if (
            "year_groups" in cleaned
            and "registration_groups" in cleaned
            and not cleaned["year_groups"]
            and not cleaned["registration_groups"]
        ):
            self.add_error(
                "year_groups", _("Choose at least one year group or registration group.")
            )
        return cleaned

    def settings(self) -> dict:
        """The values as setup.create_evening / update_evening take them."""
        data = self.cleaned_data
        names = (
            "name",
            "description",
            "slot_minutes",
            "mode",
            "booking_opens",
            "booking_closes",
            "cutoff_hours",
            "year_groups",
            "max_per_pupil",
            "max_per_parent",
            "travel_gap_minutes",
            "split_families",
            "teachers_set_breaks",
            "waiting_offer_hours",
        )
        values = {name: data[name] for name in names}
        values["year_groups"] = sorted(set(values["year_groups"]))
        values["registration_groups"] = list(data["registration_groups"])
        return values

    @staticmethod
    def changes(evening: Evening, values: dict) -> dict:
        """Only what differs from the evening as it is: an unchanged setting is never
        re-checked against its bookings."""
        changed = {}
        for name, value in values.items():
            if name == "registration_groups":
                before = set(evening.registration_groups.values_list("pk", flat=True))
                if {g.pk for g in value} != before:
                    changed[name] = value
            elif name == "year_groups":
                if sorted(value) != sorted(evening.year_groups):
                    changed[name] = value
            elif getattr(evening, name) != value:
                changed[name] = value
        return changed
