"""The parent portal: each parent sees only the children accounts.access allows."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schoolgate.accounts.access import get_visible_pupil_or_404
from schoolgate.accounts.decorators import parent_required
from schoolgate.core.ratelimit import Limit, by_user, rate_limited
from schoolgate.portal import selectors, services
from schoolgate.portal.forms import CorrectionForm


@parent_required
def home(request):
    children, todos = selectors.home_page(request.user, now=timezone.now())
    return render(request, "portal/home.html", {"children": children, "todos": todos})


@parent_required
def pupil(request, pupil_id: int):
    visible = get_visible_pupil_or_404(request.user, pupil_id)
    appointments = selectors.pupil_appointments(request.user, visible, now=timezone.now())
    return render(
        request,
        "portal/pupil.html",
        {
            "child": selectors.child(visible),
            "appointments": appointments,
            "attendance": selectors.attendance(visible),
        },
    )


# A parent corrects a few details at a time; 300 in 15 s is a script (docs/portal.md).
CORRECTION_LIMITS = [Limit(by_user, 10, 3600, "user")]


@require_http_methods(["GET", "POST"])
@parent_required
@rate_limited("correction", *CORRECTION_LIMITS)
def my_details(request):
    form = CorrectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.request_correction(
                user=request.user,
                field=form.cleaned_data["field"],
                details=form.cleaned_data["details"],
            )
            messages.success(
                request,
                _(
                    "Thank you: the school office has your correction. It will show here once "
                    "the school has updated its records."
                ),
            )
            return redirect("portal:my-details")
        status = 400
    return render(
        request,
        "portal/my_details.html",
        {
            "details": selectors.my_details(request.user),
            "corrections": selectors.my_corrections(request.user),
            "form": form,
            "calendar_url": selectors.calendar_url(),
        },
        status=status,
    )
