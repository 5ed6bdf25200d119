"""The organiser's set-up pages for an evening's teachers, class lengths and breaks.
Thin views over `schoolgate.evenings.setup.services`; refusals are shown on the page."""

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from schoolgate.evenings.booking.errors import ChangeRefused, SetupError
from schoolgate.evenings.models import (
    Break,
    ClassLength,
    EveningTeacher,
)
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.video import rooms
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
from schoolgate.evenings.web.staff.forms import add_setup_error
from schoolgate.evenings.web.staff.teacher_forms import (
    AddTeacherForm,
    BreakForm,
    ClassLengthForm,
    TeacherForm,
)


def _teachers_page(request, evening, add_form=None, *, refused=None):
    teachers = (
        EveningTeacher.objects.filter(evening=evening)
        .select_related("staff")
        .annotate(booked=Count("appointments", filter=confirmed_q("appointments__")))
    )
    active = [t for t in teachers if not t.removed]
    # A teacher's own link is used only until the school sets its video service, which
    # gives each appointment its own room (docs/video.md).
    video = rooms.needs_service(evening) and rooms.service() is None
    return render_page(
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
    return _teachers_page(request, evening_or_404(evening_id))


@organiser
@require_POST
def teachers_refresh(request, evening_id):
    evening = evening_or_404(evening_id)
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
    return redirect(staff_url("teachers", evening.pk))


@organiser
@require_POST
def teacher_add(request, evening_id):
    evening = evening_or_404(evening_id)
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
            return saved(
                request,
                _("%(name)s now takes part: every pupil of the evening may book them.")
                % {"name": staff},
                staff_url("teachers", evening.pk),
            )
    return _teachers_page(request, evening, form)


def _teacher(evening, teacher_id) -> EveningTeacher:
    return get_object_or_404(
        EveningTeacher.objects.select_related("staff"), pk=teacher_id, evening=evening
    )


@organiser
@GET_POST
def teacher_change(request, evening_id, teacher_id):
    evening = evening_or_404(evening_id)
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
            return saved(
                request,
                _("%(name)s's details were saved.") % {"name": teacher.staff},
                staff_url("teachers", evening.pk),
            )
    return render_page(
        request,
        "evenings/staff/teacher_form.html",
        {"evening": evening, "teacher": teacher, "form": form},
        refused=refused,
    )


@organiser
@require_POST
def teacher_remove(request, evening_id, teacher_id):
    evening = evening_or_404(evening_id)
    teacher = _teacher(evening, teacher_id)
    try:
        setup.remove_teacher(teacher=teacher, actor=request.user)
    except ChangeRefused as error:
        return _teachers_page(request, evening, refused=error)
    return saved(
        request,
        _("%(name)s no longer takes part. You can restore them below.") % {"name": teacher.staff},
        staff_url("teachers", evening.pk),
    )


@organiser
@require_POST
def teacher_restore(request, evening_id, teacher_id):
    evening = evening_or_404(evening_id)
    teacher = _teacher(evening, teacher_id)
    if not teacher.removed:
        return redirect(staff_url("teachers", evening.pk))
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
        return redirect(staff_url("teachers", evening.pk))
    return saved(
        request,
        _("%(name)s takes part again.") % {"name": teacher.staff},
        staff_url("teachers", evening.pk),
    )


def _class_lengths_page(request, evening, form, *, refused=None):
    lengths = ClassLength.objects.filter(evening=evening).select_related("group")
    return render_page(
        request,
        "evenings/staff/class_lengths.html",
        {"evening": evening, "lengths": lengths.order_by("group__name"), "form": form},
        refused=refused,
    )


@organiser
@GET_POST
def class_lengths(request, evening_id):
    evening = evening_or_404(evening_id)
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
            return saved(
                request,
                _("Appointments for %(group)s now last %(minutes)s minutes.")
                % {"group": group.name, "minutes": form.cleaned_data["minutes"]},
                staff_url("class-lengths", evening.pk),
            )
    return _class_lengths_page(request, evening, form)


@organiser
@require_POST
def class_length_remove(request, evening_id, length_id):
    evening = evening_or_404(evening_id)
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
    return saved(
        request,
        _("%(group)s goes back to its teachers' appointment length.")
        % {"group": length.group.name},
        staff_url("class-lengths", evening.pk),
    )


def _breaks_page(request, evening, form, *, refused=None):
    return render_page(
        request,
        "evenings/staff/breaks.html",
        {"evening": evening, "breaks": evening_breaks(evening), "form": form},
        refused=refused,
    )


@organiser
@GET_POST
def breaks(request, evening_id):
    """The breaks, and a form to add one."""
    evening = evening_or_404(evening_id)
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
            return saved(request, _("The break was added."), staff_url("breaks", evening.pk))
    return _breaks_page(request, evening, form)


@organiser
@GET_POST
def break_change(request, evening_id, break_id):
    evening = evening_or_404(evening_id)
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
            return saved(request, _("The break was changed."), staff_url("breaks", evening.pk))
    return render_page(
        request,
        "evenings/staff/break_form.html",
        {"evening": evening, "brk": brk, "form": form},
        refused=refused,
    )


@organiser
@require_POST
def break_remove(request, evening_id, break_id):
    evening = evening_or_404(evening_id)
    brk = get_object_or_404(Break, pk=break_id, evening=evening)
    setup.remove_break(brk=brk, actor=request.user)
    return saved(request, _("The break was removed."), staff_url("breaks", evening.pk))
