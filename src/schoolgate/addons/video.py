"""The video add-on's settings page: the Jitsi Meet server for video appointments, and the
JWT app ID and secret when the server needs room tokens (docs/video.md). The secret is
stored encrypted (core.secrets) and never sent back to the browser."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schoolgate.accounts.audit import record
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.core import secrets
from schoolgate.core.access import MANAGE_ADDONS, capability_required


class VideoServiceForm(forms.Form):
    video_server = forms.URLField(
        label=gettext_lazy("Jitsi Meet server"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=gettext_lazy(
            "The address of your school's own Jitsi Meet server or a hosted one, such as "
            "https://meet.yourschool.sch.uk. Leave blank to turn video appointments off."
        ),
    )
    video_app_id = forms.CharField(
        label=gettext_lazy("JWT app ID"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Only if your server asks for room tokens (JWT)."),
    )
    video_app_secret = forms.CharField(
        label=gettext_lazy("JWT app secret"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    forget_secret = forms.BooleanField(
        label=gettext_lazy("Remove the saved app secret"), required=False
    )

    def __init__(self, *args, saved_secret: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved_secret = saved_secret
        self.fields["video_app_secret"].help_text = (
            _("A secret is saved. Leave blank to keep it.")
            if saved_secret
            else _("Only if your server asks for room tokens (JWT).")
        )
        if not saved_secret:
            del self.fields["forget_secret"]

    def clean_video_server(self):
        url = self.cleaned_data["video_server"].strip().rstrip("/")
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.query or parts.fragment or parts.username:
            raise forms.ValidationError(
                _("Enter the server's https:// address only, such as https://meet.example.org.")
            )
        return url

    def clean(self):
        cleaned = super().clean()
        app_id = cleaned.get("video_app_id", "").strip()
        cleaned["video_app_id"] = app_id
        has_secret = bool(cleaned.get("video_app_secret")) or (
            self.saved_secret and not cleaned.get("forget_secret")
        )
        if app_id and not has_secret:
            self.add_error("video_app_secret", _("Enter the app secret that goes with the app ID."))
        if has_secret and not app_id and cleaned.get("video_app_secret"):
            self.add_error("video_app_id", _("Enter the app ID that goes with the app secret."))
        return cleaned


def set_video_service(*, server: str, app_id: str, secret: str | None, actor) -> list[str]:
    """Save the video service. `secret` None keeps the saved one, "" removes it. The
    change is audited, the secret only as changed or removed."""
    with transaction.atomic():
        found = AddonSettings.objects.select_for_update().get(pk=get_addon_settings().pk)
        detail = {}
        if found.video_server != server:
            detail["video_server"] = [found.video_server, server]
            found.video_server = server
        if found.video_app_id != app_id:
            detail["video_app_id"] = [found.video_app_id, app_id]
            found.video_app_id = app_id
        if secret is not None and secrets.decrypt(found.video_app_secret) != secret:
            detail["video_app_secret"] = "changed" if secret else "removed"
            found.video_app_secret = secrets.encrypt(secret)
        if detail:
            found.save(update_fields=list(detail))
            record(
                action="addons.settings_changed", subject="add-on settings", actor=actor, **detail
            )
    return list(detail)


@capability_required(MANAGE_ADDONS)
def video_page(request):
    found = get_addon_settings()
    form = VideoServiceForm(
        request.POST or None,
        initial={"video_server": found.video_server, "video_app_id": found.video_app_id},
        saved_secret=bool(found.video_app_secret),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        secret = data.get("video_app_secret") or None
        if data.get("forget_secret"):
            secret = ""
        changed = set_video_service(
            server=data["video_server"],
            app_id=data["video_app_id"],
            secret=secret,
            actor=request.user,
        )
        if changed:
            messages.success(request, _("Your video settings have been saved."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("addons:video")
    return render(request, "addons/video.html", {"form": form, "service": found.video_server})
