from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Send each person to the area that is theirs."""
    if request.user.is_staff:
        return redirect("mis:dashboard")
    return redirect("portal:home")
