from django.db import migrations

from reports.summaries import DROP, create_sql


def install(apps, schema_editor):
    # The functions and triggers as reports/summaries.py has them today; 0003 counts what is there.
    schema_editor.execute(create_sql())


def uninstall(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_summaries"),
        ("treatments", "0003_signed_sessions_read_only"),
        ("appointments", "0001_initial"),
        ("consent", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
