"""The organiser's pages: set up parents' evenings.

Thin views over `schoolgate.evenings.setup.services`: every change is one of its services,
called on POST. An id in a URL is looked up within the evening in the URL (404
otherwise). Invalid input is shown on its fields and changes nothing; a change the
services refuse because it would break bookings (ChangeRefused) is shown in an error
summary with every booking affected, and changes nothing either."""

from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.core.access import ORGANISE_EVENINGS, capability_required
from schoolgate.evenings.booking.errors import ChangeRefused, SetupError
from schoolgate.evenings.models import (
    Appointment,
    Break,
    ClassLength,
    Evening,
    EveningDay,
    EveningTeacher,
)
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.web.staff.forms import (
    AddTeacherForm,
    BreakForm,
    ClassLengthForm,
    DayForm,
    DayFormSet,
    EveningForm,
    TeacherForm,
    add_setup_error,
    day_label,
)

# A change refused because it would break bookings: the page again, with the list.
REFUSED = 409
GET_POST = require_http_methods(["GET", "POST"])


organiser = capability_required(ORGANISE_EVENINGS)


def _evening(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


def _url(name: str, *args) -> str:
    return reverse(f"evenings_staff:{name}", args=args)


def _confirmed(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": Appointment.Status.CONFIRMED})


def _page(request, template: str, context: dict, *, refused: ChangeRefused | None = None):
    context["refused"] = refused
    return render(request, template, context, status=REFUSED if refused else 200)


def _saved(request, text: str, to: str):
    messages.success(request, text)
    return redirect(to)


# --- the list, creating and editing an evening -----------------------------------


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
            appointment_count=Coalesce(_count(Appointment.objects.filter(_confirmed())), 0),
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
            return _saved(
                request,
                _("“%(name)s” was created as a draft. Check its teachers, then publish it.")
                % {"name": evening.name},
                _url("evening", evening.pk),
            )
    return render(request, "evenings/staff/evening_form.html", {"form": form, "days": days})


@organiser
@GET_POST
def evening_edit(request, evening_id):
    evening = _evening(evening_id)
    form = EveningForm(request.POST or None, evening=evening)
    refused = None
    if request.method == "POST" and form.is_valid():
        changes = EveningForm.changes(evening, form.settings())
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect(_url("evening", evening.pk))
        try:
            setup.update_evening(evening=evening, actor=request.user, **changes)
        except ChangeRefused as error:
            refused = error
        except SetupError as error:
            add_setup_error(form, error, EveningForm.SETUP_FIELDS)
        else:
            return _saved(
                request, _("The evening's settings were saved."), _url("evening", evening.pk)
            )
    return _page(
        request,
        "evenings/staff/evening_form.html",
        {"form": form, "evening": evening},
        refused=refused,
    )


@organiser
def evening_page(request, evening_id):
    evening = _evening(evening_id)
    teachers = EveningTeacher.objects.filter(evening=evening)
    return render(
        request,
        "evenings/staff/evening.html",
        {
            "evening": evening,
            "days": [
                (day, day.appointments.filter(_confirmed()).count()) for day in evening.days.all()
            ],
            "teacher_count": teachers.filter(removed=False).count(),
            "removed_count": teachers.filter(removed=True).count(),
            "appointment_count": evening.appointments.filter(_confirmed()).count(),
            "class_length_count": evening.class_lengths.count(),
            "breaks": _breaks(evening),
            "registration_groups": list(evening.registration_groups.order_by("name")),
            "statuses": Evening.Status,
        },
    )


@organiser
@require_POST
def evening_status(request, evening_id):
    evening = _evening(evening_id)
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
    return redirect(_url("evening", evening.pk))


# --- days ------------------------------------------------------------------------


def _days_page(request, evening, form, *, refused=None):
    days = [(day, day.appointments.filter(_confirmed()).count()) for day in evening.days.all()]
    return _page(
        request,
        "evenings/staff/days.html",
        {"evening": evening, "days": days, "form": form, "only_one": len(days) == 1},
        refused=refused,
    )


@organiser
@GET_POST
def days(request, evening_id):
    """The days, and a form to add one."""
    evening = _evening(evening_id)
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
            return _saved(
                request, _("%(day)s was added.") % {"day": day_label(day)}, _url("days", evening.pk)
            )
    return _days_page(request, evening, form)


@organiser
@GET_POST
def day_change(request, evening_id, day_id):
    evening = _evening(evening_id)
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
            return _saved(request, _("The day was changed."), _url("days", evening.pk))
    return _page(
        request,
        "evenings/staff/day_form.html",
        {"evening": evening, "day": day, "form": form},
        refused=refused,
    )


@organiser
@require_POST
def day_remove(request, evening_id, day_id):
    evening = _evening(evening_id)
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
    return redirect(_url("days", evening.pk))


# --- teachers --------------------------------------------------------------------


def _teachers_page(request, evening, add_form=None, *, refused=None):
    teachers = (
        EveningTeacher.objects.filter(evening=evening)
        .select_related("staff")
        .annotate(booked=Count("appointments", filter=_confirmed("appointments__")))
    )
    active = [t for t in teachers if not t.removed]
    video = evening.mode != Evening.Mode.IN_PERSON
    return _page(
        request,
        "evenings/staff/teachers.html",
        {
            "evening": evening,
            "teachers": active,
            "no_link": [t for t in active if video and not t.video_link],
            "removed": [t for t in teachers if t.removed],
            "add_form": add_form or AddTeacherForm(evening=evening),
            "sources": EveningTeacher.Source,
        },
        refused=refused,
    )


@organiser
def teachers(request, evening_id):
    return _teachers_page(request, _evening(evening_id))


@organiser
@require_POST
def teachers_refresh(request, evening_id):
    evening = _evening(evening_id)
    try:
        changes = setup.refresh_teachers(evening=evening, actor=request.user)
    except ChangeRefused as error:
        return _teachers_page(request, evening, refused=error)
    parts = [
        ngettext("%(count)s teacher joined.", "%(count)s teachers joined.", len(changes.added))
        % {"count": len(changes.added)},
        ngettext("%(count)s teacher left.", "%(count)s teachers left.", len(changes.removed))
        % {"count": len(changes.removed)},
    ]
    if changes.kept:
        parts.append(
            _(
                "Kept because they have bookings, though they no longer teach these "
                "pupils: %(names)s."
            )
            % {"names": ", ".join(str(t.staff) for t in changes.kept)}
        )
    messages.success(
        request, _("The teachers were brought up to date from the MIS.") + " " + " ".join(parts)
    )
    return redirect(_url("teachers", evening.pk))


@organiser
@require_POST
def teacher_add(request, evening_id):
    evening = _evening(evening_id)
    form = AddTeacherForm(request.POST, evening=evening)
    if form.is_valid():
        staff = form.cleaned_data["staff"]
        try:
            setup.add_teacher(
                evening=evening, actor=request.user, staff=staff, room=form.cleaned_data["room"]
            )
        except ChangeRefused as error:
            return _teachers_page(request, evening, form, refused=error)
        except SetupError as error:
            add_setup_error(form, error)
        else:
            return _saved(
                request,
                _("%(name)s now takes part: every pupil of the evening may book them.")
                % {"name": staff},
                _url("teachers", evening.pk),
            )
    return _teachers_page(request, evening, form)


def _teacher(evening, teacher_id) -> EveningTeacher:
    return get_object_or_404(
        EveningTeacher.objects.select_related("staff"), pk=teacher_id, evening=evening
    )


@organiser
@GET_POST
def teacher_change(request, evening_id, teacher_id):
    evening = _evening(evening_id)
    teacher = _teacher(evening, teacher_id)
    if teacher.removed:
        raise Http404
    form = TeacherForm(
        request.POST or None,
        evening=evening,
        initial={
            "room": teacher.room,
            "video_link": teacher.video_link,
            "slot_minutes": teacher.slot_minutes,
        },
    )
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {
            name: data[name]
            for name in ("room", "video_link", "slot_minutes")
            if data[name] != getattr(teacher, name)
        }
        try:
            if changes:
                setup.update_teacher(teacher=teacher, actor=request.user, **changes)
        except ChangeRefused as error:
            refused = error
        except SetupError as error:
            add_setup_error(form, error)
        else:
            return _saved(
                request,
                _("%(name)s's details were saved.") % {"name": teacher.staff},
                _url("teachers", evening.pk),
            )
    return _page(
        request,
        "evenings/staff/teacher_form.html",
        {"evening": evening, "teacher": teacher, "form": form},
        refused=refused,
    )


@organiser
@require_POST
def teacher_remove(request, evening_id, teacher_id):
    evening = _evening(evening_id)
    teacher = _teacher(evening, teacher_id)
    try:
        setup.remove_teacher(teacher=teacher, actor=request.user)
    except ChangeRefused as error:
        return _teachers_page(request, evening, refused=error)
    return _saved(
        request,
        _("%(name)s no longer takes part. You can restore them below.") % {"name": teacher.staff},
        _url("teachers", evening.pk),
    )


@organiser
@require_POST
def teacher_restore(request, evening_id, teacher_id):
    evening = _evening(evening_id)
    teacher = _teacher(evening, teacher_id)
    if not teacher.removed:
        return redirect(_url("teachers", evening.pk))
    try:
        setup.add_teacher(
            evening=evening,
            actor=request.user,
            staff=teacher.staff,
            room=teacher.room,
            video_link=teacher.video_link,
            slot_minutes=teacher.slot_minutes,
        )
    except ChangeRefused as error:
        return _teachers_page(request, evening, refused=error)
    except SetupError as error:
        messages.error(request, error.message)
        return redirect(_url("teachers", evening.pk))
    return _saved(
        request,
        _("%(name)s takes part again.") % {"name": teacher.staff},
        _url("teachers", evening.pk),
    )


# --- class lengths ---------------------------------------------------------------


def _class_lengths_page(request, evening, form, *, refused=None):
    lengths = ClassLength.objects.filter(evening=evening).select_related("group")
    return _page(
        request,
        "evenings/staff/class_lengths.html",
        {"evening": evening, "lengths": lengths.order_by("group__name"), "form": form},
        refused=refused,
    )


@organiser
@GET_POST
def class_lengths(request, evening_id):
    evening = _evening(evening_id)
    form = ClassLengthForm(request.POST or None, evening=evening)
    if request.method == "POST" and form.is_valid():
        group = form.cleaned_data["group"]
        try:
            setup.set_class_length(
                evening=evening,
                actor=request.user,
                group=group,
                minutes=form.cleaned_data["minutes"],
            )
        except ChangeRefused as error:
            return _class_lengths_page(request, evening, form, refused=error)
        except SetupError as error:
            add_setup_error(form, error)
        else:
            return _saved(
                request,
                _("Appointments for %(group)s now last %(minutes)s minutes.")
                % {"group": group.name, "minutes": form.cleaned_data["minutes"]},
                _url("class-lengths", evening.pk),
            )
    return _class_lengths_page(request, evening, form)


@organiser
@require_POST
def class_length_remove(request, evening_id, length_id):
    evening = _evening(evening_id)
    length = get_object_or_404(
        ClassLength.objects.select_related("group"), pk=length_id, evening=evening
    )
    try:
        setup.set_class_length(
            evening=evening, actor=request.user, group=length.group, minutes=None
        )
    except ChangeRefused as error:
        return _class_lengths_page(
            request, evening, ClassLengthForm(evening=evening), refused=error
        )
    return _saved(
        request,
        _("%(group)s goes back to its teachers' appointment length.")
        % {"group": length.group.name},
        _url("class-lengths", evening.pk),
    )


# --- breaks ----------------------------------------------------------------------


def _breaks(evening) -> list[Break]:
    return list(evening.breaks.prefetch_related("teachers__staff").order_by("starts_at"))


def _breaks_page(request, evening, form, *, refused=None):
    return _page(
        request,
        "evenings/staff/breaks.html",
        {"evening": evening, "breaks": _breaks(evening), "form": form},
        refused=refused,
    )


@organiser
@GET_POST
def breaks(request, evening_id):
    """The breaks, and a form to add one."""
    evening = _evening(evening_id)
    form = BreakForm(request.POST or None, evening=evening)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            setup.add_break(
                evening=evening,
                actor=request.user,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                teachers=form.chosen_teachers(),
                label=data["label"],
            )
        except ChangeRefused as error:
            return _breaks_page(request, evening, form, refused=error)
        except SetupError as error:
            add_setup_error(form, error, {"break": "starts", "teachers": "teachers"})
        else:
            return _saved(request, _("The break was added."), _url("breaks", evening.pk))
    return _breaks_page(request, evening, form)


@organiser
@GET_POST
def break_change(request, evening_id, break_id):
    evening = _evening(evening_id)
    brk = get_object_or_404(Break, pk=break_id, evening=evening)
    form = BreakForm(request.POST or None, evening=evening, initial=BreakForm.initial_for(brk))
    refused = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            setup.change_break(
                brk=brk,
                actor=request.user,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                teachers=form.chosen_teachers(),
                label=data["label"],
            )
        except ChangeRefused as error:
            refused = error
        except SetupError as error:
            add_setup_error(form, error, {"break": "starts", "teachers": "teachers"})
        else:
            return _saved(request, _("The break was changed."), _url("breaks", evening.pk))
    return _page(
        request,
        "evenings/staff/break_form.html",
        {"evening": evening, "brk": brk, "form": form},
        refused=refused,
    )


@organiser
@require_POST
def break_remove(request, evening_id, break_id):
    evening = _evening(evening_id)
    brk = get_object_or_404(Break, pk=break_id, evening=evening)
    setup.remove_break(brk=brk, actor=request.user)
    return _saved(request, _("The break was removed."), _url("breaks", evening.pk))
