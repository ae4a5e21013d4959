"""Sends remember their enrolment's status (pending and confirmed sends are capped apart) and
whether they were a code or a notice. Sends already made for enrolments confirmed since count
as confirmed: they are their owners' codes, and must not fill the unconfirmed cap."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("vault", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="smssend",
            name="enrolment_status",
            field=models.CharField(default="pending", max_length=12),
        ),
        migrations.AddField(
            model_name="smssend",
            name="kind",
            field=models.CharField(default="code", max_length=12),
        ),
        migrations.RunSQL(
            "UPDATE vault_smssend SET enrolment_status = 'confirmed' WHERE enrolment_ref IN"
            " (SELECT id FROM vault_enrolment WHERE status = 'confirmed')",
            migrations.RunSQL.noop,
        ),
    ]
