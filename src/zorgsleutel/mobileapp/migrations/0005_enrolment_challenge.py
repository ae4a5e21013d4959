"""Every app enrolment waits on its cross-device challenge (authn.challenges): the browser that
shows the QR code polls /wachten/<id> like the QR login. Open codes live 5 minutes and have no
challenge to refer to: they go (a page showing one shows a new code when reloaded)."""

import django.db.models.deletion
from django.db import migrations, models


def drop_enrolments(apps, schema_editor):
    apps.get_model("mobileapp", "AppEnrolment").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("authn", "0002_held_answer"),
        ("mobileapp", "0004_decisions_per_organisation"),
    ]

    operations = [
        migrations.RunPython(drop_enrolments, migrations.RunPython.noop),
        migrations.AddField(
            model_name="appenrolment",
            name="challenge",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="app_enrolment",
                to="authn.challenge",
            ),
            preserve_default=False,
        ),
    ]
