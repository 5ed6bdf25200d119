# The school's SMTP password was stored in clear: widen the column for the encrypted
# text and encrypt what is stored (schoolgate.core.secrets).

from django.db import migrations, models


def encrypt_stored(apps, schema_editor):
    from schoolgate.core import secrets

    AddonSettings = apps.get_model("addons", "AddonSettings")
    for row in AddonSettings.objects.exclude(smtp_password="").exclude(
        smtp_password__startswith=secrets.PREFIX
    ):
        row.smtp_password = secrets.encrypt(row.smtp_password)
        row.save(update_fields=["smtp_password"])


class Migration(migrations.Migration):
    dependencies = [
        ("addons", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="addonsettings",
            name="smtp_password",
            field=models.CharField(blank=True, max_length=1000, verbose_name="SMTP password"),
        ),
        # Not reversible to clear text on purpose: going back leaves it encrypted.
        migrations.RunPython(encrypt_stored, migrations.RunPython.noop),
    ]
