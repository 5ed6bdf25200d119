"""The organiser's forms for an evening's teachers, class lengths and breaks."""

from django import forms
from django.utils.translation import gettext_lazy as _

from schoolgate.evenings.booking.availability import eligible_pupils
from schoolgate.evenings.models import Evening, EveningDay, EveningTeacher
from schoolgate.evenings.web.staff.forms import (
    NUMBER,
    TIME_WIDGET,
    day_label,
    local_datetime,
    local_parts,
    minutes_field,
)
from schoolgate.mis.models import GroupMembership, Staff, TeachingGroup


class TeacherForm(forms.Form):
    """A teacher's room, video link and appointment length at one evening."""

    room = forms.CharField(
        label=_("Room or location"),
        max_length=100,
        required=False,
        help_text=_("Where parents meet this teacher, for example “S12” or “Main hall”."),
    )
    video_link = forms.URLField(
        label=_("Video meeting link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("For video appointments: the address parents open to join."),
    )
    slot_minutes = forms.IntegerField(
        label=_("Appointment length in minutes (optional)"),
        required=False,
        min_value=1,
        max_value=600,
        widget=forms.NumberInput(attrs=NUMBER),
    )

    def __init__(self, *args, evening: Evening, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot_minutes"].help_text = _(
            "Leave blank to use the evening's %(minutes)s minutes; otherwise a whole "
            "multiple of it."
        ) % {"minutes": evening.slot_minutes}

    def clean_room(self):
        return " ".join(self.cleaned_data["room"].split())


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, staff):
        return f"{staff} ({staff.role})" if staff.role else str(staff)


class AddTeacherForm(forms.Form):
    """Someone from the MIS staff list who is not yet taking part (head of year, SENCO)."""

    staff = StaffChoiceField(
        label=_("Member of staff"),
        queryset=Staff.objects.none(),
        empty_label=_("Choose a member of staff"),
        error_messages={"invalid_choice": _("Choose a member of staff from the list.")},
    )
    room = TeacherForm.base_fields["room"]

    def __init__(self, *args, evening: Evening, **kwargs):
        super().__init__(*args, **kwargs)
        taking_part = EveningTeacher.objects.filter(evening=evening, removed=False)
        self.fields["staff"].queryset = (
            Staff.objects.filter(current=True)
            .exclude(pk__in=taking_part.values("staff_id"))
            .order_by("surname", "forename")
        )


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, group):
        return f"{group.name} ({group.subject})" if group.subject else group.name


class ClassLengthForm(forms.Form):
    """A longer appointment for one class taught at this evening."""

    group = GroupChoiceField(
        label=_("Class"),
        queryset=TeachingGroup.objects.none(),
        empty_label=_("Choose a class"),
        error_messages={"invalid_choice": _("Choose a class from the list.")},
    )
    minutes = minutes_field(_("Appointment length in minutes"))

    def __init__(self, *args, evening: Evening, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"].help_text = _(
            "A whole multiple of its teachers' lengths (the evening's is %(minutes)s minutes)."
        ) % {"minutes": evening.slot_minutes}
        staff = EveningTeacher.objects.filter(evening=evening, removed=False).values("staff_id")
        pupils = GroupMembership.objects.filter(pupil__in=eligible_pupils(evening)).values(
            "group_id"
        )
        self.fields["group"].queryset = (
            TeachingGroup.objects.filter(current=True, groupteacher__staff__in=staff, pk__in=pupils)
            .distinct()
            .order_by("year_group", "name")
        )


class TeacherChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, teacher):
        return str(teacher.staff)


class BreakForm(forms.Form):
    """A break on one day, for every teacher or the ones chosen."""

    ALL, SOME = "all", "some"

    label = forms.CharField(
        label=_("Name (optional)"),
        max_length=100,
        required=False,
        help_text=_("For example “Tea break”."),
    )
    day = forms.ModelChoiceField(
        label=_("Day"),
        queryset=EveningDay.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose a day of this evening.")},
    )
    starts = forms.TimeField(
        label=_("Starts at"), widget=TIME_WIDGET, help_text=_("For example, 17:30")
    )
    ends = forms.TimeField(
        label=_("Ends at"), widget=TIME_WIDGET, help_text=_("For example, 17:45")
    )
    who = forms.ChoiceField(
        label=_("Who takes the break"),
        choices=[(ALL, _("Every teacher")), (SOME, _("Only the teachers ticked below"))],
        widget=forms.RadioSelect,
        initial=ALL,
    )
    teachers = TeacherChoices(
        label=_("Teachers"),
        queryset=EveningTeacher.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only when the break is for some teachers: tick one or several."),
    )

    def __init__(self, *args, evening: Evening, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].queryset = EveningDay.objects.filter(evening=evening)
        self.fields["day"].label_from_instance = day_label
        self.fields["teachers"].queryset = EveningTeacher.objects.filter(
            evening=evening, removed=False
        ).select_related("staff")

    @classmethod
    def initial_for(cls, brk) -> dict:
        date, starts = local_parts(brk.starts_at)
        day = next((d for d in brk.evening.days.all() if local_parts(d.starts_at)[0] == date), None)
        return {
            "label": brk.label,
            "day": day,
            "starts": starts,
            "ends": local_parts(brk.ends_at)[1],
            "who": cls.ALL if brk.all_teachers else cls.SOME,
            "teachers": list(brk.teachers.all()),
        }

    def clean(self):
        cleaned = super().clean()
        day, starts, ends = cleaned.get("day"), cleaned.get("starts"), cleaned.get("ends")
        if day is not None and starts is not None and ends is not None:
            date = local_parts(day.starts_at)[0]
            try:
                cleaned["starts_at"] = local_datetime(date, starts)
                cleaned["ends_at"] = local_datetime(date, ends)
            except forms.ValidationError as error:
                self.add_error("starts", error)
            else:
                if cleaned["ends_at"] <= cleaned["starts_at"]:
                    self.add_error("ends", _("The break must end after it starts."))
        if cleaned.get("who") == self.SOME and not cleaned.get("teachers"):
            self.add_error("teachers", _("Tick the teachers who take the break."))
        return cleaned

    def chosen_teachers(self):
        """None for every teacher (as the set-up services take it), else the list."""
        if self.cleaned_data["who"] == self.ALL:
            return None
        return list(self.cleaned_data["teachers"])
