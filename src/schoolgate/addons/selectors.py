from schoolgate.addons.models import AddonSettings


def get_addon_settings() -> AddonSettings:
    """The installation's one settings row (created with defaults on first use)."""
    addon_settings, _ = AddonSettings.objects.get_or_create(pk=1)
    return addon_settings
