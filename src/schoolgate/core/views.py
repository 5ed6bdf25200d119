from django.shortcuts import redirect, render

from schoolgate.core.access import (
    ORGANISE_EVENINGS,
    SEE_MIS_DATA,
    TEACH,
    has_capability,
    signed_in,
)

# A member of staff lands on the first of these their roles allow.
STAFF_LANDINGS = (
    (SEE_MIS_DATA, "mis:dashboard"),
    (ORGANISE_EVENINGS, "evenings_staff:list"),
    (TEACH, "teacher:evenings"),
)


@signed_in
def home(request):
    """Send each person to the area that is theirs."""
    if not request.user.is_staff:
        return redirect("portal:home")
    for capability, url_name in STAFF_LANDINGS:
        if has_capability(request.user, capability):
            return redirect(url_name)
    return render(request, "core/staff_home.html")
