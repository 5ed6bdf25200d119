"""The organiser's absence form: who, when (the whole evening or part of one day) and
what to do with the appointments. Times are on the school's clock; the service
(`schoolgate.evenings.running.absence`) checks the rest."""

from django import forms
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningDay,
    EveningTeacher,
    TeacherAbsence,
)
from schoolgate.evenings.web.staff.forms import TIME_WIDGET, day_label, local_datetime, local_parts
from schoolgate.evenings.web.staff.teacher_forms import StaffChoiceField
from schoolgate.mis.models import Staff


class TeacherChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, teacher):
        booked = getattr(teacher, "booked", None)
        if booked is None:
            return str(teacher.staff)
        return ngettext(
            "%(name)s (%(count)s appointment)", "%(name)s (%(count)s appointments)", booked
        ) % {"name": teacher.staff, "count": booked}


class AbsenceForm(forms.Form):
    WHOLE, PART = "whole", "part"

    teacher = TeacherChoiceField(
        label=_("Which teacher is absent?"),
        queryset=EveningTeacher.objects.none(),
        empty_label=_("Choose a teacher"),
        error_messages={
            "required": _("Choose the teacher who is absent."),
            "invalid_choice": _("Choose a teacher of this evening."),
        },
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=[(WHOLE, _("The whole evening")), (PART, _("Part of one day"))],
        widget=forms.RadioSelect,
        initial=WHOLE,
    )
    day = forms.ModelChoiceField(
        label=_("Day"),
        queryset=EveningDay.objects.none(),
        required=False,
        empty_label=None,
        help_text=_("Only for part of one day."),
        error_messages={"invalid_choice": _("Choose a day of this evening.")},
    )
    starts = forms.TimeField(
        label=_("Absent from"),
        widget=TIME_WIDGET,
        required=False,
        help_text=_("Only for part of one day. For example, 17:30"),
    )
    ends = forms.TimeField(
        label=_("Absent until"),
        widget=TIME_WIDGET,
        required=False,
        help_text=_("Only for part of one day. For example, 19:00"),
    )
    action = forms.ChoiceField(
        label=_("What should happen to their appointments?"),
        choices=[
            (
                TeacherAbsence.Action.CANCEL,
                _("Cancel them: parents are told and can book again"),
            ),
            (
                TeacherAbsence.Action.TRANSFER,
                _("Give them to another member of staff at the same times"),
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what should happen to the appointments.")},
    )
    substitute = StaffChoiceField(
        label=_("Who takes the appointments"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("Choose a member of staff"),
        help_text=_(
            "Only when giving the appointments to someone else. Someone not yet taking "
            "part is added to the evening. Appointments at times they are not free are "
            "cancelled and listed for you."
        ),
        error_messages={"invalid_choice": _("Choose a member of staff from the list.")},
    )

    def __init__(self, *args, evening: Evening, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = (
            EveningTeacher.objects.filter(evening=evening, removed=False)
            .select_related("staff")
            .annotate(
                booked=Count(
                    "appointments",
                    filter=Q(appointments__status=Appointment.Status.CONFIRMED),
                )
            )
            .order_by("staff__surname", "staff__forename", "pk")  # found by name
        )
        self.fields["day"].queryset = EveningDay.objects.filter(evening=evening)
        self.fields["day"].label_from_instance = day_label
        self.fields["substitute"].queryset = Staff.objects.filter(current=True).order_by(
            "surname", "forename"
        )

    def clean(self):
        cleaned = super().clean()
        cleaned["starts_at"] = cleaned["ends_at"] = None
        if cleaned.get("when") == self.PART:
            day, starts, ends = cleaned.get("day"), cleaned.get("starts"), cleaned.get("ends")
            if day is None and "day" not in self.errors:
                self.add_error("day", _("Choose the day of the absence."))
            if starts is None and "starts" not in self.errors:
                self.add_error("starts", _("Give the time the absence starts, like 17:30."))
            if ends is None and "ends" not in self.errors:
                self.add_error("ends", _("Give the time the absence ends, like 19:00."))
            if day is not None and starts is not None and ends is not None:
                date = local_parts(day.starts_at)[0]
                try:
                    cleaned["starts_at"] = local_datetime(date, starts)
                    cleaned["ends_at"] = local_datetime(date, ends)
                except forms.ValidationError as error:
                    self.add_error("starts", error)
                else:
                    if cleaned["ends_at"] <= cleaned["starts_at"]:
                        self.add_error("ends", _("The absence must end after it starts."))
        if cleaned.get("action") == TeacherAbsence.Action.TRANSFER:
            substitute, teacher = cleaned.get("substitute"), cleaned.get("teacher")
            if substitute is None and "substitute" not in self.errors:
                self.add_error("substitute", _("Choose who takes the appointments."))
            elif teacher is not None and substitute.pk == teacher.staff_id:
                self.add_error(
                    "substitute",
                    _("Choose someone other than the absent teacher."),
                )
        return cleaned
