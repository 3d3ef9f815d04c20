# The audit chain moves from plain SHA-256 to HMAC-SHA256 under a key kept outside the database
# (settings.AUDIT_HMAC_KEYS). Each row records the id of the key that signed it. Rows already written keep
# their hashes and get key id 0, which verify_audit checks as plain SHA-256, as before: a database from
# before this change, the demo clinic's included, still verifies. Key id 0 is accepted only for the rows
# at the start of the chain (verify_audit refuses a plain row after a keyed one), so it cannot be used to
# forge new rows.
#
# PostgreSQL 11+ adds a column with a constant default without rewriting the table, and no row trigger
# fires (the append-only trigger refuses UPDATE); the default is dropped afterwards, so every new row
# must say which key signed it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_login_failed_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.SmallIntegerField(default=0),
            preserve_default=False,
        ),
    ]
