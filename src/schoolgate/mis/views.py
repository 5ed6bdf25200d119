from django.shortcuts import render

from schoolgate.core.access import staff_required


@staff_required()
def dashboard(request):
    return render(request, "mis/dashboard.html", {})


@staff_required()
def sync(request):
    return render(request, "mis/sync.html", {})
