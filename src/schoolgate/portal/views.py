"""The parent portal: each parent sees only the children accounts.access allows."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schoolgate.accounts.access import get_visible_pupil_or_404, is_parent
from schoolgate.portal import selectors, services
from schoolgate.portal.forms import CorrectionForm


def parent_required(view):
    """Signed in and linked to at least one child now; otherwise a 403 page saying so."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_parent(request.user):
            return render(request, "portal/no_children.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


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


@require_http_methods(["GET", "POST"])
@parent_required
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
