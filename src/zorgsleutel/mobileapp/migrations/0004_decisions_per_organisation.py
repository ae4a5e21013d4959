"""App IDs belong to their person; each organisation decides about them for itself."""

import django.db.models.deletion
from django.db import migrations, models


def decisions_from_the_old_owner(apps, schema_editor):
    """The organisation an app ID was registered under keeps what it decided, as its own
    decision: a block (not the wrong PINs'), a removal, a release. A removal could have been the
    person's own: it stays a removal for every organisation (the safe reading)."""
    AppDevice = apps.get_model("mobileapp", "AppDevice")
    AppDecision = apps.get_model("mobileapp", "AppDecision")
    for device in AppDevice.objects.exclude(state="active"):
        at = device.last_used_at or device.enrolled_at
        if device.state == "blocked" and device.wrong_pins < 3 and device.organisation_id:
            AppDecision.objects.create(
                device=device,
                organisation_id=device.organisation_id,
                state="blocked",
                decided_at=at,
            )
            device.state = "active"
        elif device.state in ("revoked", "released"):
            if device.organisation_id:
                AppDecision.objects.create(
                    device=device,
                    organisation_id=device.organisation_id,
                    state=device.state,
                    decided_at=at,
                )
            device.state = "revoked"
        device.save(update_fields=["state"])


class Migration(migrations.Migration):
    dependencies = [
        ("mobileapp", "0003_challenges_move_to_authn"),
        ("organisations", "0003_applications_and_suspension"),
    ]

    operations = [
        migrations.CreateModel(
            name="AppDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("state", models.CharField(max_length=10)),
                ("decided_at", models.DateTimeField()),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="decisions",
                        to="mobileapp.appdevice",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="app_decisions",
                        to="organisations.organisation",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("device", "organisation"), name="one_app_decision_per_organisation"
                    )
                ],
            },
        ),
        migrations.RunPython(decisions_from_the_old_owner, migrations.RunPython.noop),
        migrations.RemoveField(model_name="appdevice", name="organisation"),
    ]
