"""Failed sign-ins move from django-axes to accounts.SignInFailure (docs/accounts.md,
Lockout); axes' tables, which kept each failure's POST data, are dropped."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_user_orphaned_at'),
    ]

    operations = [
        migrations.CreateModel(
            name='SignInFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.CharField(db_index=True, max_length=254)),
                ('address', models.CharField(db_index=True, max_length=45)),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                'default_permissions': (),
            },
        ),
        # Dependants first (the expiration table points at the attempts).
        *[
            migrations.RunSQL(f"DROP TABLE IF EXISTS {table}", migrations.RunSQL.noop)
            for table in (
                "axes_accessattemptexpiration",
                "axes_accessattempt",
                "axes_accessfailurelog",
                "axes_accesslog",
            )
        ],
    ]
