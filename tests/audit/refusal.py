"""Make the audit trail refuse every new row for a while, to show that a change whose audit event cannot
be written is not saved either (the two share one transaction).

A trigger created inside the test's own transaction (DDL: the table owner's right), dropped on leaving.
"""

from contextlib import contextmanager

from django.db import connection

REFUSE = """
CREATE FUNCTION tests_refuse_audit_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit trail unavailable (test)';
END;
$$;
CREATE TRIGGER tests_refuse_audit_event BEFORE INSERT ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION tests_refuse_audit_event();
"""
ALLOW = """
DROP TRIGGER tests_refuse_audit_event ON audit_auditevent;
DROP FUNCTION tests_refuse_audit_event();
"""


@contextmanager
def audit_refused():
    """Inside, any INSERT into the audit trail fails with 'audit trail unavailable (test)'."""
    with connection.cursor() as cursor:
        cursor.execute(REFUSE)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(ALLOW)
