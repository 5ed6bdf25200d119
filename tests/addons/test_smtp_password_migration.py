"""The data migration that encrypts an SMTP password stored in clear before it existed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from schoolgate.core import secrets

BEFORE = [("addons", "0001_initial")]
AFTER = [("addons", "0002_smtp_password_encrypted")]


@pytest.mark.django_db(transaction=True)
def test_a_clear_password_is_encrypted_and_an_empty_one_left_alone():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("addons", "AddonSettings")
    kept = old.objects.create(smtp_password="in-clear")
    empty = old.objects.create(smtp_password="")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from schoolgate.addons.models import AddonSettings

    stored = AddonSettings.objects.get(pk=kept.pk).smtp_password
    assert stored.startswith(secrets.PREFIX) and "in-clear" not in stored
    assert secrets.decrypt(stored) == "in-clear"
    assert AddonSettings.objects.get(pk=empty.pk).smtp_password == ""
