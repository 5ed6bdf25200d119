from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schoolgate.core.access import (
    MANAGE_ADDONS,
    MANAGE_USERS,
    ORGANISE_EVENINGS,
    READ_OUTBOX,
    REVIEW_CORRECTIONS,
    RUN_SYNC,
    SEE_MIS_DATA,
    TEACH,
    has_capability,
)

# Each staff page in the navigation, shown only to those whose roles allow it.
STAFF_NAVIGATION = (
    ((SEE_MIS_DATA,), gettext_lazy("Data Dashboard"), "mis:dashboard"),
    ((RUN_SYNC,), gettext_lazy("Sync"), "mis:sync"),
    ((TEACH,), gettext_lazy("My parents' evenings"), "teacher:evenings"),
    ((ORGANISE_EVENINGS,), gettext_lazy("Parents' evenings"), "evenings_staff:list"),
    ((MANAGE_ADDONS,), gettext_lazy("Add-ons"), "addons:settings"),
    ((MANAGE_ADDONS,), gettext_lazy("MIS Accounts"), "addons:mis-accounts"),
    ((READ_OUTBOX,), gettext_lazy("Email outbox"), "outbox:list"),
    ((REVIEW_CORRECTIONS,), gettext_lazy("Corrections"), "corrections:queue"),
    ((MANAGE_USERS,), gettext_lazy("User Manager"), "accounts:users"),
)


def school(request):
    """The school's name and the navigation the signed-in person may use."""
    return {
        "school_name": school_name(),
        "navigation": navigation_for(request),
    }


def school_name() -> str:
    from schoolgate.addons.selectors import get_addon_settings

    return get_addon_settings().school_name or settings.SCHOOLGATE["SCHOOL_NAME"]


def navigation_for(request) -> list[dict]:
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return []
    items = []
    if user.is_staff:
        for capability, label, url_name in STAFF_NAVIGATION:
            if has_capability(user, *capability):
                items.append({"label": label, "url": reverse(url_name)})
    else:
        items.append({"label": _("Your children"), "url": reverse("portal:home")})
        items.append({"label": _("Parents' evenings"), "url": reverse("evenings:list")})
        items.append({"label": _("My details"), "url": reverse("portal:my-details")})
    items.append({"label": _("Your account"), "url": reverse("accounts:change-password")})
    path = request.path
    # The longest match only: /parents/ must not light up on /parents/my-details/ too.
    matches = [item["url"] for item in items if path.startswith(item["url"])]
    longest = max(matches, key=len, default=None)
    for item in items:
        item["active"] = item["url"] == longest
    return items
