"""The organiser's attendance page: the evening's figures, and one teacher's
appointments at a time with a form to mark each. Notes are never shown here."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schoolgate.core.access import ORGANISE_EVENINGS, SEE_ATTENDANCE, capability_required
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.models import Appointment, Evening, EveningTeacher
from schoolgate.evenings.running import attendance, teacher_tools
from schoolgate.evenings.web.teacher.forms import AttendanceMarkForm

REFUSED = 409


def _teacher_choice(evening, value) -> EveningTeacher | None:
    if not value:
        return None
    try:
        return EveningTeacher.objects.select_related("staff").get(pk=int(value), evening=evening)
    except (ValueError, TypeError, EveningTeacher.DoesNotExist):
        raise Http404 from None


@capability_required(ORGANISE_EVENINGS, SEE_ATTENDANCE)
@require_http_methods(["GET", "POST"])
def attendance_page(request, evening_id):
    evening = get_object_or_404(Evening, pk=evening_id)
    chosen = _teacher_choice(evening, request.POST.get("teacher") or request.GET.get("teacher"))
    errors = {}
    status = 200
    if request.method == "POST":
        try:
            appointment_id = int(request.POST.get("appointment", ""))
        except ValueError:
            raise Http404 from None
        appointment = get_object_or_404(
            Appointment.objects.select_related("pupil"), pk=appointment_id, evening=evening
        )
        form = AttendanceMarkForm(request.POST, prefix=f"a{appointment.pk}")
        if form.is_valid():
            try:
                teacher_tools.mark_attendance(
                    appointment=appointment,
                    actor=request.user,
                    attendance=form.cleaned_data["attendance"],
                )
            except BookingError as error:
                errors[appointment.pk] = error.message
                status = REFUSED
            else:
                messages.success(
                    request,
                    _("Attendance saved for %(pupil)s.")
                    % {"pupil": appointment.pupil.display_name},
                )
                url = reverse("evenings_staff:attendance", args=[evening.pk])
                if chosen:
                    url += f"?teacher={chosen.pk}#appointment-{appointment.pk}"
                return redirect(url)
        else:
            errors[appointment.pk] = " ".join(form.errors.get("attendance", []))
            status = 400
    rows = []
    if chosen is not None:
        for appointment in (
            Appointment.objects.filter(
                evening=evening, teacher=chosen, status=Appointment.Status.CONFIRMED
            )
            .select_related("pupil", "day")
            .order_by("starts_at", "pk")
        ):
            rows.append(
                {
                    "appointment": appointment,
                    "form": AttendanceMarkForm(
                        initial={"attendance": appointment.attendance},
                        prefix=f"a{appointment.pk}",
                    ),
                    "can_mark": teacher_tools.may_mark_attendance(appointment),
                    "error": errors.get(appointment.pk, ""),
                }
            )
    return render(
        request,
        "evenings/staff/attendance.html",
        {
            "evening": evening,
            "figures": attendance.evening_figures(evening),
            "teachers": EveningTeacher.objects.filter(evening=evening)
            .select_related("staff")
            .order_by("staff__surname", "staff__forename", "pk"),
            "chosen": chosen,
            "rows": rows,
            "errors": errors,
        },
        status=status,
    )
