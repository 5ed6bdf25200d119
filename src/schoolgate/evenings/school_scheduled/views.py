"""The school-scheduled pages: thin views over wishes.py, build.py and publish.py.

Parents (parent_required) see only evenings for their own children, and each of
their children's teachers; teachers (TEACH) only their own pupils at evenings they
take part in; the organiser's pages need ORGANISE_EVENINGS. Any other id is 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.accounts.decorators import parent_required
from schoolgate.core.access import ORGANISE_EVENINGS, TEACH, capability_required
from schoolgate.evenings.models import Evening
from schoolgate.evenings.school_scheduled import build, publish, wishes
from schoolgate.evenings.school_scheduled.forms import (
    FLAG_CHOICES,
    OpenForm,
    WindowForm,
    rank_choices,
)
from schoolgate.evenings.school_scheduled.models import (
    FamilyWish,
    ScheduledEvening,
    TeacherFlag,
)

REFUSED = 409


def _form_errors(form) -> list[tuple[str, str]]:
    return [
        (f"{form[name].label}: {error}" if name != "__all__" else error, f"#id_{name}")
        for name, errors in form.errors.items()
        for error in errors
    ]


# --- parents -------------------------------------------------------------------------


@parent_required
def parent_list(request):
    found = wishes.parent_evenings(request.user)
    given = set(
        FamilyWish.objects.filter(
            parent=request.user, evening__in=[s.evening for s in found]
        ).values_list("evening_id", flat=True)
    )
    return render(
        request,
        "evenings/school_scheduled/parent_list.html",
        {"rows": [(s, s.pk in given) for s in found]},
    )


@parent_required
@require_http_methods(["GET", "POST"])
def parent_wishes(request, evening_id):
    scheduled, children = wishes.parent_scheduled_or_404(request.user, evening_id)
    choices = wishes.child_choices(scheduled, request.user, children)
    allowed = {(c.pupil.pk, t.pk) for c in choices for t, _s, _r in c.teachers}
    existing = wishes.family_wish(scheduled, request.user)
    initial = {}
    if existing:
        initial = {
            "arrive_after": existing.arrive_after,
            "leave_by": existing.leave_by,
            "one_visit": "yes" if existing.one_visit else "no",
        }
    form = WindowForm(request.POST or None, initial=initial)
    errors, status, ranks = [], 200, {}
    if request.method == "POST":
        for name, value in request.POST.items():
            if not name.startswith("rank-"):
                continue
            try:
                pupil_id, teacher_id = (int(part) for part in name[5:].split("-"))
            except ValueError:
                raise Http404 from None
            if (pupil_id, teacher_id) not in allowed:
                raise Http404
            if value:
                try:
                    ranks[(pupil_id, teacher_id)] = int(value)
                except ValueError:
                    errors.append((_("Choose an order from the list."), f"#{name}"))
        for child in choices:
            mine = [r for (p, _t), r in ranks.items() if p == child.pupil.pk]
            if len(mine) != len(set(mine)):
                errors.append(
                    (
                        _("Give each of %(pupil)s's teachers a different choice number.")
                        % {"pupil": child.pupil.display_name},
                        f"#child-{child.pupil.pk}",
                    )
                )
        if not ranks:
            errors.append((_("Choose at least one teacher you would like to see."), "#teachers"))
        if not form.is_valid():
            errors += _form_errors(form)
        if not errors:
            try:
                wishes.save_family_wishes(
                    scheduled=scheduled,
                    parent=request.user,
                    ranks=ranks,
                    arrive_after=form.cleaned_data["arrive_after"],
                    leave_by=form.cleaned_data["leave_by"],
                    one_visit=form.cleaned_data["one_visit"],
                )
            except wishes.WishError as error:
                errors, status = [(error.message, "#teachers")], REFUSED
            else:
                messages.success(
                    request,
                    _(
                        "Thank you: your wishes are saved. We will email your appointments "
                        "when the school has built the evening."
                    ),
                )
                return redirect("evenings:scheduled-wishes", evening_id=scheduled.pk)
        else:
            status = 200
    rows = []
    for child in choices:
        count = len(child.teachers)
        teachers = []
        for teacher, subjects, rank in child.teachers:
            name = f"rank-{child.pupil.pk}-{teacher.pk}"
            chosen = request.POST.get(name, "") if request.method == "POST" else str(rank or "")
            teachers.append(
                {"teacher": teacher, "subjects": subjects, "name": name, "chosen": chosen}
            )
        rows.append({"pupil": child.pupil, "teachers": teachers, "options": rank_choices(count)})
    return render(
        request,
        "evenings/school_scheduled/parent_wishes.html",
        {
            "scheduled": scheduled,
            "evening": scheduled.evening,
            "rows": rows,
            "form": form,
            "errors": errors,
            "open": scheduled.open_for_wishes(),
            "given": existing is not None,
        },
        status=status,
    )


# --- teachers ------------------------------------------------------------------------


@capability_required(TEACH)
def teacher_list(request):
    return render(
        request,
        "evenings/school_scheduled/teacher_list.html",
        {"entries": wishes.teacher_scheduled(request.user)},
    )


@capability_required(TEACH)
@require_http_methods(["GET", "POST"])
def teacher_flags(request, evening_id):
    entry = wishes.teacher_entry_or_404(request.user, evening_id)
    pupils = wishes.teacher_pupils(entry)
    own = {p.pupil.pk for p in pupils}
    errors, status = [], 200
    if request.method == "POST":
        flags = {}
        for name, value in request.POST.items():
            if not name.startswith("flag-"):
                continue
            try:
                pupil_id = int(name[5:])
            except ValueError:
                raise Http404 from None
            if pupil_id not in own:
                raise Http404
            if value not in ("", *TeacherFlag.Flag.values):
                errors.append((_("Choose a flag from the list."), f"#{name}"))
            flags[pupil_id] = value
        if not errors:
            try:
                count = wishes.save_flags(entry=entry, flags=flags)
            except wishes.WishError as error:
                errors, status = [(error.message, "#pupils")], REFUSED
            else:
                messages.success(
                    request,
                    _("Your flags are saved (%(count)s pupils flagged).") % {"count": count},
                )
                return redirect("teacher:scheduled-flags", evening_id=entry.evening_id)
    return render(
        request,
        "evenings/school_scheduled/teacher_flags.html",
        {
            "entry": entry,
            "evening": entry.evening,
            "pupils": pupils,
            "choices": FLAG_CHOICES,
            "errors": errors,
            "open": entry.evening.scheduled.open_for_wishes(),
        },
        status=status,
    )


# --- the organiser -------------------------------------------------------------------


def _evening(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


@capability_required(ORGANISE_EVENINGS)
@require_http_methods(["GET", "POST"])
def organiser_page(request, evening_id):
    evening = _evening(evening_id)
    scheduled = ScheduledEvening.objects.filter(evening=evening).first()
    form = OpenForm(request.POST or None)
    errors, status = [], 200
    if request.method == "POST":
        if form.is_valid():
            try:
                wishes.open_for_wishes(
                    evening=evening,
                    actor=request.user,
                    wishes_close=form.wishes_close(),
                    time_limit_seconds=form.cleaned_data["time_limit"],
                )
            except wishes.WishError as error:
                errors, status = [(error.message, "#id_close_date")], REFUSED
            else:
                messages.success(request, _("The evening is open for wishes."))
                return redirect("evenings_staff:scheduled", evening_id=evening.pk)
        else:
            errors = _form_errors(form)
    counts = {}
    if scheduled:
        counts = {
            "families": evening.family_wishes.count(),
            "flags": evening.teacher_flags.count(),
        }
    return render(
        request,
        "evenings/school_scheduled/organiser.html",
        {
            "evening": evening,
            "scheduled": scheduled,
            "form": form,
            "errors": errors,
            "counts": counts,
            "now": timezone.now(),
        },
        status=status,
    )


def _scheduled(evening_id) -> ScheduledEvening:
    return get_object_or_404(ScheduledEvening.objects.select_related("evening"), pk=evening_id)


@capability_required(ORGANISE_EVENINGS)
@require_POST
def organiser_build(request, evening_id):
    scheduled = _scheduled(evening_id)
    try:
        build.build(scheduled=scheduled, actor=request.user)
    except wishes.WishError as error:
        messages.error(request, error.message)
        return redirect("evenings_staff:scheduled", evening_id=scheduled.pk)
    return redirect("evenings_staff:scheduled-review", evening_id=scheduled.pk)


@capability_required(ORGANISE_EVENINGS)
def organiser_review(request, evening_id):
    scheduled = _scheduled(evening_id)
    if not scheduled.result:
        raise Http404
    result = scheduled.result
    parents, pupils, teachers = build.names(result)
    unplaced = [
        {
            **u,
            "parent_obj": parents.get(u["parent"]),
            "pupil_obj": pupils.get(u["pupil"]),
            "teacher_obj": teachers.get(u["teacher"]),
            "why": build.REASONS.get(u["reason"], u["reason"]),
        }
        for u in sorted(result["unplaced"], key=lambda u: (not u["must"], u["reason"]))
    ]
    meetings = [
        {
            **m,
            "parent_obj": parents.get(m["parent"]),
            "pupil_obj": pupils.get(m["pupil"]),
            "teacher_obj": teachers.get(m["teacher"]),
            "starts": timezone.datetime.fromisoformat(m["start"]),
        }
        for m in result["meetings"]
    ]
    return render(
        request,
        "evenings/school_scheduled/review.html",
        {
            "scheduled": scheduled,
            "evening": scheduled.evening,
            "figures": result["figures"],
            "bound": result.get("bound", {}),
            "seconds": result.get("seconds"),
            "unplaced": unplaced,
            "meetings": meetings,
        },
    )


@capability_required(ORGANISE_EVENINGS)
@require_POST
def organiser_publish(request, evening_id):
    scheduled = _scheduled(evening_id)
    try:
        done = publish.publish(scheduled=scheduled, actor=request.user)
    except wishes.WishError as error:
        messages.error(request, error.message)
        return redirect("evenings_staff:scheduled-review", evening_id=scheduled.pk)
    if done.already:
        messages.info(request, _("This schedule was already published."))
    else:
        messages.success(
            request,
            _(
                "Published: %(appointments)s appointments booked and %(families)s families "
                "emailed their times."
            )
            % {"appointments": done.appointments, "families": done.families},
        )
    return redirect("evenings_staff:evening", evening_id=scheduled.pk)
