from django.db import migrations

# The audit trail is append-only in the database itself, so no door (admin, shell, raw SQL from the app's
# role) can rewrite or remove what happened. Only a superuser disabling the trigger can, and the hash
# chain then names the altered row (manage.py verify_audit). TRUNCATE is left to table owners: the test
# runner empties tables with it, and production's application role is not the owner (README "Deploying").
APPEND_ONLY = """
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunSQL(APPEND_ONLY, DROP)]
