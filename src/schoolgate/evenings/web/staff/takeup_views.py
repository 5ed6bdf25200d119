"""The organiser's pages for running an evening: take-up and chase-up emails, copying
the evening, the bookings CSV and the teacher-availability import.

Thin views over takeup.py, chaseup.py, copying.py, bookings_csv.py and
availability_csv.py. The evening in the URL must exist (404 otherwise)."""

import base64

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from schoolgate.core.access import ORGANISE_EVENINGS, capability_required
from schoolgate.evenings.booking.errors import ChangeRefused, SetupError
from schoolgate.evenings.models import Evening
from schoolgate.evenings.reports import bookings_csv
from schoolgate.evenings.reports.takeup import take_up
from schoolgate.evenings.running import chaseup
from schoolgate.evenings.setup import availability_csv, copying
from schoolgate.evenings.web.staff.forms import add_setup_error, day_label
from schoolgate.evenings.web.staff.takeup_forms import AvailabilityForm, CopyForm
from schoolgate.mis.snapshot import InvalidSource

REFUSED = 409


organiser = capability_required(ORGANISE_EVENINGS)


def _evening(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


def _url(name: str, *args) -> str:
    return reverse(f"evenings_staff:{name}", args=args)


@organiser
@require_GET
def takeup_page(request, evening_id):
    evening = _evening(evening_id)
    now = timezone.now()
    figures = take_up(evening, now=now)
    return render(
        request,
        "evenings/staff/takeup.html",
        {
            "evening": evening,
            "figures": figures,
            "figures_at": now,
            "can_chase": evening.status == Evening.Status.PUBLISHED
            and now < evening.booking_closes,
        },
    )


@organiser
@require_POST
def chase(request, evening_id):
    evening = _evening(evening_id)
    try:
        result = chaseup.send_chase_ups(evening=evening, actor=request.user)
    except SetupError as error:
        messages.error(request, error.message)
    else:
        sent, already = len(result.sent), len(result.already)
        text = ngettext(
            "%(count)s chase-up email sent.", "%(count)s chase-up emails sent.", sent
        ) % {"count": sent}
        if already:
            text += " " + ngettext(
                "%(count)s parent had already been chased today and was not emailed again.",
                "%(count)s parents had already been chased today and were not emailed again.",
                already,
            ) % {"count": already}
        messages.success(request, text)
    return redirect(_url("takeup", evening.pk))


@organiser
@require_GET
def export_csv(request, evening_id):
    evening = _evening(evening_id)
    response = HttpResponse(
        bookings_csv.bookings_csv(evening), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{bookings_csv.filename(evening)}"'
    response["Cache-Control"] = "no-store"
    return response


@organiser
@require_http_methods(["GET", "POST"])
def copy_page(request, evening_id):
    evening = _evening(evening_id)
    form = CopyForm(
        request.POST or None,
        initial={"name": _("%(name)s (copy)") % {"name": evening.name}},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = copying.copy_evening(
                evening=evening,
                actor=request.user,
                name=data["name"],
                starts_on=data["first_date"],
                booking_opens=data["booking_opens"],
                booking_closes=data["booking_closes"],
            )
        except SetupError as error:
            add_setup_error(
                form,
                error,
                {"booking_opens": "opens_date", "booking_closes": "closes_date", "days": None},
            )
        else:
            text = _(
                "“%(name)s” was made as a draft from “%(old)s”. Check its days, teachers "
                "and booking window, then publish it."
            ) % {"name": result.evening.name, "old": evening.name}
            if result.not_carried:
                text += " " + _(
                    "Not carried over (they no longer teach its pupils or have left): %(names)s."
                ) % {"names": ", ".join(str(t.staff) for t in result.not_carried)}
            messages.success(request, text)
            return redirect(_url("evening", result.evening.pk))
    days = list(evening.days.order_by("starts_at"))
    return render(
        request,
        "evenings/staff/copy.html",
        {"evening": evening, "form": form, "days": [day_label(d) for d in days]},
    )


@organiser
@require_http_methods(["GET", "POST"])
def availability_page(request, evening_id):
    """Upload a file, check the changes it would make, then apply them. The confirm
    step posts the file back (base64) and everything is checked again."""
    evening = _evening(evening_id)
    context = {"evening": evening, "problems": None, "refused": None}
    status = 200
    form = AvailabilityForm()
    if request.method == "POST" and "content" in request.POST:
        try:
            data = base64.b64decode(request.POST["content"], validate=True)
        except ValueError:
            messages.error(request, _("The upload was damaged: choose the file again."))
            return redirect(_url("availability", evening.pk))
        else:
            name = request.POST.get("name", "")[:200] or "availability.csv"
            try:
                result = availability_csv.import_file(
                    evening=evening, data=data, name=name, actor=request.user
                )
            except InvalidSource as error:
                context["problems"] = error.problems
            except ChangeRefused as error:
                context["refused"], status = error, REFUSED
            except SetupError as error:
                messages.error(request, error.message)
                return redirect(_url("availability", evening.pk))
            else:
                return _saved(request, _imported(result), _url("availability", evening.pk))
    elif request.method == "POST":
        form = AvailabilityForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                plan = availability_csv.read(data, evening=evening, name=upload.name)
            except InvalidSource as error:
                context["problems"] = error.problems
            else:
                preview = availability_csv.preview(evening=evening, plan=plan)
                if preview.in_the_way:
                    context["refused"] = availability_csv.refusal(preview.in_the_way)
                    status = REFUSED
                elif not preview.changes:
                    messages.info(
                        request,
                        _("The availability is already as the file says: nothing to change."),
                    )
                    return redirect(_url("availability", evening.pk))
                else:
                    return render(
                        request,
                        "evenings/staff/availability_confirm.html",
                        {
                            "evening": evening,
                            "preview": preview,
                            "name": upload.name,
                            "content": base64.b64encode(data).decode("ascii"),
                        },
                    )
    context["form"] = form
    context["breaks"] = _imported_breaks(evening)
    return render(request, "evenings/staff/availability.html", context, status=status)


def _imported(result) -> str:
    if not result.changed_teacher_days:
        return _("The availability is already as the file says: nothing to change.")
    return ngettext(
        "Availability imported: %(count)s teacher's day changed "
        "(%(added)s unavailable times now, %(removed)s removed).",
        "Availability imported: %(count)s teachers' days changed "
        "(%(added)s unavailable times now, %(removed)s removed).",
        result.changed_teacher_days,
    ) % {
        "count": result.changed_teacher_days,
        "added": result.added,
        "removed": result.removed,
    }


def _saved(request, text, to):
    messages.success(request, text)
    return redirect(to)


def _imported_breaks(evening):
    labels = availability_csv.unavailable_labels()
    return list(
        evening.breaks.filter(all_teachers=False, label__in=labels)
        .prefetch_related("teachers__staff")
        .order_by("starts_at")
    )
