# A whole phone number typed in the search box is looked up by equality on these (patients.services
# .search_condition, the `digits` lookup of patients.models.Digits): by the trigram index on phone_digits,
# its ten digits share their trigrams with a good part of the table, and at 1M patients PostgreSQL read
# thousands of index entries and rows to find one number (bench/_calls.py, search_by_phone). The
# expression is the lookup's own, character for character, or the planner would not match them.

from django.db import migrations

INDEXES = """
CREATE INDEX patient_phone_number_digits_idx
    ON patients_patient (regexp_replace(phone, '[^0-9]', '', 'g'));
CREATE INDEX patient_phone_alternate_number_digits_idx
    ON patients_patient (regexp_replace(phone_alternate, '[^0-9]', '', 'g'));
"""
DROP_INDEXES = """
DROP INDEX IF EXISTS patient_phone_number_digits_idx;
DROP INDEX IF EXISTS patient_phone_alternate_number_digits_idx;
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_booked_online_not_yet_verified")]

    operations = [migrations.RunSQL(INDEXES, DROP_INDEXES)]
