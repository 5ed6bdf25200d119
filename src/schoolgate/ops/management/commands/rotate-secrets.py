"""`schoolgate rotate-secrets`: encrypt every stored secret again with the first key of
FIELD_ENCRYPTION_KEY (docs/deploy.md, "Secrets at rest")."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from schoolgate.addons.models import AddonSettings
from schoolgate.core.secrets import rotate
from schoolgate.mis.models import DataSource

# Every model field holding a secret encrypted with schoolgate.core.secrets.
SECRET_FIELDS = (
    (AddonSettings, ("smtp_password",)),
    (DataSource, ("oneroster_client_secret", "wonde_token")),
)


def rotate_all() -> int:
    """Re-encrypt every stored secret with the first key; the number of values rewritten."""
    count = 0
    with transaction.atomic():
        for model, fields in SECRET_FIELDS:
            for row in model.objects.select_for_update():
                changed = []
                for name in fields:
                    stored = getattr(row, name)
                    if stored:
                        # Raises SecretUnreadable (and rolls back) if no key opens it.
                        setattr(row, name, rotate(stored))
                        changed.append(name)
                if changed:
                    # QuerySet.update: no save() hooks, the values are already encrypted.
                    model.objects.filter(pk=row.pk).update(**{n: getattr(row, n) for n in changed})
                    count += len(changed)
    return count


class Command(BaseCommand):
    help = "Encrypt every stored secret again with the first key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        count = rotate_all()
        self.stdout.write(
            _("%(count)s stored secrets encrypted with the first key.") % {"count": count}
        )
