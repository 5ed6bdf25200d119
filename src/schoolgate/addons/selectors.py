from schoolgate.addons.models import AddonSettings
from schoolgate.core import request_memo

MEMO_KEY = ("addon-settings",)


def get_addon_settings() -> AddonSettings:
    """The installation's one settings row (created with defaults on first use).

    Read once per web request (a parent's visit asked for it about 40 times); a save
    drops the copy (AddonsConfig.ready), and tasks and commands always read afresh."""
    return request_memo.remembered(MEMO_KEY, _read_settings)


def _read_settings() -> AddonSettings:
    addon_settings = AddonSettings.objects.filter(pk=1).first()
    if addon_settings is None:
        addon_settings, _ = AddonSettings.objects.get_or_create(pk=1)
    return addon_settings


def forget_settings(**kwargs) -> None:
    request_memo.forget(MEMO_KEY[0])
