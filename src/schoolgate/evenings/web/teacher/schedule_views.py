"""A teacher's own parents' evenings and schedule, on the page and as an A4 PDF.

A member of staff sees the schedule of an evening only when they are one of its
teachers (teachers.teacher_entries_for: their email matches the MIS staff record);
any other evening id is not found (404). Only their own appointments are read."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify

from schoolgate.core.access import TEACH, capability_required
from schoolgate.evenings.reports import schedules
from schoolgate.evenings.reports.pdf import pdf_response, render_pdf


def _own_entry_or_404(user, evening_id):
    entry = schedules.teacher_entry_or_none(user, evening_id=evening_id)
    if entry is None:
        raise Http404
    return entry


@capability_required(TEACH)
def evening_list(request):
    entries = schedules.teacher_evenings(request.user, now=timezone.now())
    return render(request, "evenings/teacher/evenings.html", {"entries": entries})


@capability_required(TEACH)
def schedule(request, evening_id):
    entry = _own_entry_or_404(request.user, evening_id)
    found = schedules.teacher_schedule(evening=entry.evening, teacher=entry)
    return render(
        request,
        "evenings/teacher/schedule.html",
        {"evening": entry.evening, "schedule": found},
    )


@capability_required(TEACH)
def schedule_pdf(request, evening_id):
    entry = _own_entry_or_404(request.user, evening_id)
    found = schedules.teacher_schedule(evening=entry.evening, teacher=entry)
    data = render_pdf(
        "evenings/print/schedules.html",
        {"evening": entry.evening, "schedules": [found]},
        request=request,
    )
    return pdf_response(data, filename=schedule_filename(entry))


def schedule_filename(entry) -> str:
    first = min((d.starts_at for d in entry.evening.days.all()), default=None)
    when = timezone.localtime(first).strftime("%Y-%m-%d") if first else "evening"
    name = slugify(entry.staff.display_name) or "teacher"
    return f"schedule-{name}-{when}.pdf"
