from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _


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
        items += [
            {"label": _("Data Dashboard"), "url": reverse("mis:dashboard")},
            {"label": _("Sync"), "url": reverse("mis:sync")},
        ]
        items.append({"label": _("My parents' evenings"), "url": reverse("teacher:evenings")})
        if user.has_perm("evenings.organise_evenings"):
            items.append({"label": _("Parents' evenings"), "url": reverse("evenings_staff:list")})
        if user.has_perm("addons.change_addonsettings"):
            items.append({"label": _("Add-ons"), "url": reverse("addons:settings")})
            items.append({"label": _("MIS Accounts"), "url": reverse("addons:mis-accounts")})
        if user.has_perm("outbox.view_outboxmessage"):
            items.append({"label": _("Email outbox"), "url": reverse("outbox:list")})
        if user.has_perm("portal.review_corrections"):
            items.append({"label": _("Corrections"), "url": reverse("corrections:queue")})
        if user.has_perm("accounts.manage_users"):
            items.append({"label": _("User Manager"), "url": reverse("accounts:users")})
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
