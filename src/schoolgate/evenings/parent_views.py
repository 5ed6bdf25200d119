"""The parents' pages: see evenings for their children and book them."""

from django.shortcuts import render

from schoolgate.evenings.availability import evenings_for_parent
from schoolgate.portal.views import parent_required


@parent_required
def evening_list(request):
    return render(
        request, "evenings/parent/list.html", {"evenings": evenings_for_parent(request.user)}
    )
