# A date of birth typed in the search box (patients.services.find_patients) finds everyone born that day,
# about 30 at 1,000,000 patients, of whom the box shows 25 by name: ORDER BY lower(family_name),
# lower(given_name), id LIMIT 25. On the plain date of birth index PostgreSQL read every one of them (a
# bitmap heap scan) and sorted them (issue 17: 0.2 ms of the call's 1.5). This index holds each day's
# patients in that order, so it reads the first 25 off the b-tree and stops; the expressions are the
# ORDER BY's own, or the planner would not match them. It serves every other lookup by date of birth as
# patient_dob_idx did (the date is its first column), so that one goes: one index on the date, not two.
# (patient_dob_folded_names_idx, migration 0006, stays: it holds the folded names for duplicates.)
#
# Built CONCURRENTLY, then the old one dropped, so a large patients table keeps taking registrations and
# is never without an index on the date while this runs.

import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("patients", "0009_name_words")]

    operations = [
        AddIndexConcurrently(
            model_name="patient",
            index=models.Index(
                models.F("date_of_birth"),
                django.db.models.functions.text.Lower("family_name"),
                django.db.models.functions.text.Lower("given_name"),
                models.F("id"),
                name="patient_dob_name_order_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="patient", name="patient_dob_idx"),
    ]
