"""The organiser's absence pages: mark a teacher absent (cancel or transfer their
appointments) and see what each absence did. Thin views over
`schoolgate.evenings.running.absence`; ids are looked up within the evening in the URL."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import ngettext

from schoolgate.evenings.booking.errors import BookingError, ChangeRefused, SetupError
from schoolgate.evenings.models import TeacherAbsence
from schoolgate.evenings.running import absence, waiting
from schoolgate.evenings.web.staff.absence_forms import AbsenceForm
from schoolgate.evenings.web.staff.common import GET_POST, evening_or_404, organiser, render_page
from schoolgate.evenings.web.staff.forms import add_setup_error

FIELDS = {"teacher": "teacher", "starts": "starts", "ends": "ends", "substitute": "substitute"}


@organiser
@GET_POST
def absences(request, evening_id):
    """The form, and the absences marked so far."""
    evening = evening_or_404(evening_id)
    form = AbsenceForm(request.POST or None, evening=evening)
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            done = absence.mark_absent(
                evening=evening,
                teacher=data["teacher"],
                actor=request.user,
                action=data["action"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                substitute=data["substitute"] if data["action"] == absence.TRANSFER else None,
            )
        except ChangeRefused as error:
            refused = error
        except SetupError as error:
            add_setup_error(form, error, FIELDS)
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            outcome = absence.outcome_of(done)
            messages.success(request, _summary(done, outcome))
            return redirect(reverse("evenings_staff:absence", args=[evening.pk, done.pk]))
    return render_page(
        request,
        "evenings/staff/absences.html",
        {"evening": evening, "form": form, "absences": absence.absences_of(evening)},
        refused=refused,
    )


@organiser
def absence_page(request, evening_id, absence_id):
    """What one absence did: transferred, cancelled, and the clashes to deal with."""
    evening = evening_or_404(evening_id)
    found = get_object_or_404(
        TeacherAbsence.objects.select_related("teacher__staff", "substitute__staff", "created_by"),
        pk=absence_id,
        evening=evening,
    )
    return render_page(
        request,
        "evenings/staff/absence.html",
        {"evening": evening, "absence": found, "outcome": absence.outcome_of(found)},
    )


def _summary(done: TeacherAbsence, outcome) -> str:
    name = done.teacher.staff
    if done.action == absence.TRANSFER:
        text = ngettext(
            "%(name)s is marked absent. %(count)s appointment was given to %(substitute)s.",
            "%(name)s is marked absent. %(count)s appointments were given to %(substitute)s.",
            len(outcome.transferred),
        ) % {"name": name, "count": len(outcome.transferred), "substitute": done.substitute.staff}
        if outcome.clashes:
            text += " " + ngettext(
                "%(count)s could not be and was cancelled: see below.",
                "%(count)s could not be and were cancelled: see below.",
                len(outcome.clashes),
            ) % {"count": len(outcome.clashes)}
        return text
    return ngettext(
        "%(name)s is marked absent. %(count)s appointment was cancelled and its parents told.",
        "%(name)s is marked absent. %(count)s appointments were cancelled and their parents told.",
        len(outcome.cancelled),
    ) % {"name": name, "count": len(outcome.cancelled)}


@organiser
def waiting_lists(request, evening_id):
    """Each teacher's waiting list, in the order families will be offered a time."""
    evening = evening_or_404(evening_id)
    return render_page(
        request,
        "evenings/staff/waiting_lists.html",
        {"evening": evening, "lists": waiting.lists_for_evening(evening)},
    )
