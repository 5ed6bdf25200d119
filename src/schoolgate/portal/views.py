"""The parent portal: each parent sees only the children accounts.access allows."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from schoolgate.accounts.access import get_visible_pupil_or_404, is_parent
from schoolgate.portal import selectors


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
    return render(request, "portal/home.html", {"children": selectors.children_of(request.user)})


@parent_required
def pupil(request, pupil_id: int):
    visible = get_visible_pupil_or_404(request.user, pupil_id)
    return render(request, "portal/pupil.html", {"child": selectors.child(visible)})
