"""The organiser's pages: set up parents' evenings.

Thin views over `schoolgate.evenings.setup.services`: every change is one of its services,
called on POST. An id in a URL is looked up within the evening in the URL (404
otherwise). Invalid input is shown on its fields and changes nothing; a change the
services refuse because it would break bookings (ChangeRefused) is shown in an error
summary with every booking affected, and changes nothing either."""

from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from schoolgate.evenings.booking.errors import ChangeRefused, SetupError
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningDay,
    EveningTeacher,
)
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.web.staff.common import (
    GET_POST,
    confirmed_q,
    evening_breaks,
    evening_or_404,
    organiser,
    render_page,
    saved,
    staff_url,
)
from schoolgate.evenings.web.staff.forms import (
    DayForm,
    DayFormSet,
    EveningForm,
    add_setup_error,
    day_label,
)


def _count(queryset) -> Subquery:
    """A per-evening count as a subquery: two counts joined in one query would
    multiply each other's rows (teachers by appointments)."""
    counted = queryset.filter(evening=OuterRef("pk")).order_by().values("evening")
    return Subquery(counted.annotate(n=Count("pk")).values("n"), output_field=IntegerField())


@organiser
def evening_list(request):
    evenings = (
        Evening.objects.annotate(
            teacher_count=Coalesce(_count(EveningTeacher.objects.filter(removed=False)), 0),
            appointment_count=Coalesce(_count(Appointment.objects.filter(confirmed_q())), 0),
        )
        .prefetch_related("days")
        .order_by("-booking_opens", "name")
    )
    return render(request, "evenings/staff/list.html", {"evenings": evenings})


@organiser
@GET_POST
def evening_create(request):
    form = EveningForm(request.POST or None)
    days = DayFormSet(request.POST or None, prefix="days")
    if request.method == "POST" and form.is_valid() & days.is_valid():
        try:
            evening = setup.create_evening(actor=request.user, days=days.days(), **form.settings())
        except SetupError as error:
            if error.field == "days":
                days._non_form_errors = days.error_class([error.message])
            else:
                add_setup_error(form, error, EveningForm.SETUP_FIELDS)
        else:
            return saved(
                request,
                _("“%(name)s” was created as a draft. Check its teachers, then publish it.")
                % {"name": evening.name},
                staff_url("evening", evening.pk),
            )
    return render(request, "evenings/staff/evening_form.html", {"form": form, "days": days})


@organiser
@GET_POST
def evening_edit(request, evening_id):
    evening = evening_or_404(evening_id)
    form = EveningForm(request.POST or None, evening=evening)
    refused = None
    if request.method == "POST" and form.is_valid():
        changes = EveningForm.changes(evening, form.settings())
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect(staff_url("evening", evening.pk))
        try:
            setup.update_evening(evening=evening, actor=request.user, **changes)
        except ChangeRefused as error:
            refused = error
        except SetupError as error:
            add_setup_error(form, error, EveningForm.SETUP_FIELDS)
        else:
            return saved(
                request, _("The evening's settings were saved."), staff_url("evening", evening.pk)
            )
    return render_page(
        request,
        "evenings/staff/evening_form.html",
        {"form": form, "evening": evening},
        refused=refused,
    )


@organiser
def evening_page(request, evening_id):
    evening = evening_or_404(evening_id)
    teachers = EveningTeacher.objects.filter(evening=evening)
    return render(
        request,
        "evenings/staff/evening.html",
        {
            "evening": evening,
            "days": [
                (day, day.appointments.filter(confirmed_q()).count()) for day in evening.days.all()
            ],
            "teacher_count": teachers.filter(removed=False).count(),
            "removed_count": teachers.filter(removed=True).count(),
            "appointment_count": evening.appointments.filter(confirmed_q()).count(),
            "class_length_count": evening.class_lengths.count(),
            "breaks": evening_breaks(evening),
            "registration_groups": list(evening.registration_groups.order_by("name")),
            "statuses": Evening.Status,
        },
    )


@organiser
@require_POST
def evening_status(request, evening_id):
    evening = evening_or_404(evening_id)
    status = request.POST.get("status", "")
    try:
        setup.set_status(evening=evening, actor=request.user, status=status)
    except SetupError as error:
        messages.error(request, error.message)
    else:
        texts = {
            Evening.Status.PUBLISHED: _(
                "The evening is published: parents can book while booking is open."
            ),
            Evening.Status.CLOSED: _(
                "The evening is closed: parents can no longer book or change."
            ),
            Evening.Status.DRAFT: _("The evening is back to draft: parents no longer see it."),
        }
        messages.success(request, texts[status])
    return redirect(staff_url("evening", evening.pk))


def _days_page(request, evening, form, *, refused=None):
    days = [(day, day.appointments.filter(confirmed_q()).count()) for day in evening.days.all()]
    return render_page(
        request,
        "evenings/staff/days.html",
        {"evening": evening, "days": days, "form": form, "only_one": len(days) == 1},
        refused=refused,
    )


@organiser
@GET_POST
def days(request, evening_id):
    """The days, and a form to add one."""
    evening = evening_or_404(evening_id)
    form = DayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            day = setup.add_day(
                evening=evening,
                actor=request.user,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
            )
        except ChangeRefused as error:
            return _days_page(request, evening, form, refused=error)
        except SetupError as error:
            form.add_error(None, error.message)
        else:
            return saved(
                request,
                _("%(day)s was added.") % {"day": day_label(day)},
                staff_url("days", evening.pk),
            )
    return _days_page(request, evening, form)


@organiser
@GET_POST
def day_change(request, evening_id, day_id):
    evening = evening_or_404(evening_id)
    day = get_object_or_404(EveningDay, pk=day_id, evening=evening)
    form = DayForm(request.POST or None, initial=DayForm.initial_for(day))
    refused = None
    if request.method == "POST" and form.is_valid():
        try:
            setup.change_day(
                day=day,
                actor=request.user,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
            )
        except ChangeRefused as error:
            refused = error
        except SetupError as error:
            form.add_error(None, error.message)
        else:
            return saved(request, _("The day was changed."), staff_url("days", evening.pk))
    return render_page(
        request,
        "evenings/staff/day_form.html",
        {"evening": evening, "day": day, "form": form},
        refused=refused,
    )


@organiser
@require_POST
def day_remove(request, evening_id, day_id):
    evening = evening_or_404(evening_id)
    day = get_object_or_404(EveningDay, pk=day_id, evening=evening)
    label = day_label(day)
    try:
        setup.remove_day(day=day, actor=request.user)
    except ChangeRefused as error:
        return _days_page(request, evening, DayForm(), refused=error)
    except SetupError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(day)s was removed.") % {"day": label})
    return redirect(staff_url("days", evening.pk))
