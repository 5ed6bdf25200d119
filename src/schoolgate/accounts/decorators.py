"""The parent pages' declaration of who may open them (docs/permissions.md)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from schoolgate.accounts.access import is_parent
from schoolgate.core.access import audience


def parent_required(view):
    """Signed in and linked to at least one child now; otherwise a 403 page saying so."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_parent(request.user):
            return render(request, "portal/no_children.html", status=403)
        return view(request, *args, **kwargs)

    return audience("parent")(wrapped)
