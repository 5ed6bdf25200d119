"""The organiser's pages: set up parents' evenings."""

from django.shortcuts import render

from schoolgate.core.access import staff_required
from schoolgate.evenings.models import Evening


@staff_required("evenings.organise_evenings")
def evening_list(request):
    return render(request, "evenings/staff/list.html", {"evenings": Evening.objects.all()})
