import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

import clinic.fields

# Every free-text field has a length limit in the form, the model and the database (issue 12): the
# free text that issue 11 added (screening rules' reasons, incidents' entries and outcomes) too.


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_screening_rules_and_sites"),
    ]

    operations = [
        migrations.AlterField(
            model_name="screeningrule",
            name="reason",
            field=clinic.fields.LimitedTextField(
                help_text="Why, with the source: shown to clinicians beside the finding.", max_length=2000
            ),
        ),
        migrations.AddConstraint(
            model_name="screeningrule",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("reason"), 2000
                ),
                name="patients_screeningrule_reason_length",
            ),
        ),
    ]
