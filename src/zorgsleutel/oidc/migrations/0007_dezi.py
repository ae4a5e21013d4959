"""Scope `dezi`: the UZI card's facts on each sign-in, and the scopes each application may
receive. Applications registered before keep every scope they could receive then."""

from django.db import migrations, models

import zorgsleutel.oidc.models

BEFORE = ["openid", "profile", "email", "roles"]


def keep_what_they_had(apps, schema_editor):
    apps.get_model("oidc", "Client").objects.update(allowed_scopes=BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("oidc", "0006_owner"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="allowed_scopes",
            field=models.JSONField(default=zorgsleutel.oidc.models.default_scopes),
        ),
        migrations.AddField(
            model_name="signin",
            name="dezi",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(keep_what_they_had, migrations.RunPython.noop),
    ]
