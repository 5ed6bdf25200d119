"""Staff pages for parents' correction requests: read each one, apply it in the MIS,
then mark it done here. Schoolgate never edits the mirror itself."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from schoolgate.core.access import REVIEW_CORRECTIONS, capability_required
from schoolgate.portal import selectors, services
from schoolgate.portal.models import CorrectionRequest


@capability_required(REVIEW_CORRECTIONS)
def queue(request):
    status = request.GET.get("status", CorrectionRequest.Status.OPEN)
    if status not in CorrectionRequest.Status.values:
        status = CorrectionRequest.Status.OPEN
    counts = {
        value: CorrectionRequest.objects.filter(status=value).count()
        for value in CorrectionRequest.Status.values
    }
    return render(
        request,
        "portal/staff/queue.html",
        {
            "requests": selectors.correction_queue(status=status),
            "status": status,
            "counts": counts,
            "filters": [
                {"value": value, "label": label, "count": counts[value]}
                for value, label in CorrectionRequest.Status.choices
            ],
        },
    )


@require_POST
@capability_required(REVIEW_CORRECTIONS)
def mark_done(request, correction_id: int):
    correction = get_object_or_404(CorrectionRequest, pk=correction_id)
    if services.mark_correction_done(correction=correction, actor=request.user):
        messages.success(
            request,
            _("The correction from %(name)s is marked done.")
            % {"name": correction.contact_name or correction.requested_by.email},
        )
    else:
        messages.error(request, _("That correction was already marked done."))
    return redirect("corrections:queue")
