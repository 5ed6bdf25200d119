import threading

from schoolgate.addons.models import AddonSettings

# Within one web request the settings row is read once (a parent's visit asked for it
# about 40 times: docs/benchmarks.md). Kept only between request_started and
# request_finished, and dropped when the row is saved, so no process ever serves another
# request, or its own after a save, from an old copy.
_request = threading.local()


def get_addon_settings() -> AddonSettings:
    """The installation's one settings row (created with defaults on first use)."""
    cached = getattr(_request, "settings", None)
    if cached is not None:
        return cached
    addon_settings = AddonSettings.objects.filter(pk=1).first()
    if addon_settings is None:
        addon_settings, _ = AddonSettings.objects.get_or_create(pk=1)
    if getattr(_request, "active", False):
        _request.settings = addon_settings
    return addon_settings


def start_request(**kwargs) -> None:
    _request.active, _request.settings = True, None


def end_request(**kwargs) -> None:
    _request.active, _request.settings = False, None


def forget_settings(**kwargs) -> None:
    _request.settings = None
