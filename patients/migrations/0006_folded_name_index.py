# The lookup behind "same name and date of birth" (patients.services.possible_duplicates at registration,
# match_registered for imports) compares names folded by patients_fold(): without an index on the folded
# names, every candidate folds the names of everyone born that day (bench/interop_import.py: 100,000
# imported rows took most of a minute for this alone). patients_fold is IMMUTABLE, so it can be indexed.

from django.db import migrations

INDEX = """
CREATE INDEX patient_dob_folded_names_idx
    ON patients_patient (date_of_birth, patients_fold(given_name), patients_fold(family_name));
"""
DROP_INDEX = "DROP INDEX IF EXISTS patient_dob_folded_names_idx;"


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_safety_free_text_length_limits")]

    operations = [migrations.RunSQL(INDEX, DROP_INDEX)]
