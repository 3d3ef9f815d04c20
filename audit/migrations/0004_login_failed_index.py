# Added for the sign-in lockout (accounts/lockout.py), which counts recent failed sign-ins for one
# address on every login attempt:
#   WHERE action = 'login_failed' AND UPPER(detail) = UPPER('e-mail tried: <address>') AND at > <since>
#   ORDER BY at DESC LIMIT <limit>
# A partial expression index, kept out of the model state (plain SQL) so audit/models.py is unchanged;
# built CONCURRENTLY so a large audit table keeps taking writes while it builds.

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0003_more_actions"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_login_failed_idx "
                "ON audit_auditevent (UPPER(detail), at DESC) WHERE action = 'login_failed'"
            ),
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS audit_login_failed_idx",
        ),
    ]
