# My day lists the clinician's drafts, newest first (treatments.selectors.drafts_of): a few rows among
# their thousands of signed sessions, which session_clinician_idx reads one by one only to skip them (at
# 1M sessions, every signed session of the clinician on each view). Partial, so it holds the drafts alone
# and stays small; a session leaves it when it is signed.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatments", "0014_stored_visit_summary")]

    operations = [
        migrations.AddIndex(
            model_name="needlingsession",
            index=models.Index(
                condition=models.Q(("signed_at__isnull", True)),
                fields=["clinician", "-started_at"],
                name="session_draft_idx",
            ),
        ),
    ]
