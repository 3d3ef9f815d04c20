import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models

import clinic.fields

# Every free-text field has a length limit in the form, the model and the database (issue 12): the
# free text that issue 11 added (screening rules' reasons, incidents' entries and outcomes) too.


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_safety_free_text_length_limits"),
        ("treatments", "0010_incidents_followed_up"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="closing_note",
            field=clinic.fields.LimitedTextField(blank=True, max_length=2000),
        ),
        migrations.AlterField(
            model_name="incidententry",
            name="text",
            field=clinic.fields.LimitedTextField(max_length=2000),
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("closing_note"), 2000
                ),
                name="treatments_incident_closing_note_length",
            ),
        ),
        migrations.AddConstraint(
            model_name="incidententry",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("text"), 2000
                ),
                name="treatments_incidententry_text_length",
            ),
        ),
    ]
