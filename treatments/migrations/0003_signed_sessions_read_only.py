from django.db import migrations

# DESIGN.md rule 2: once signed, a session is read-only in the database too, whoever writes (ORM, admin,
# raw SQL, a future import). Rule 5 and BC records law (16 years): nothing clinical is hard-deleted.
# TRUNCATE stays with the table owner (the test runner empties tables with it).
READ_ONLY = """
CREATE FUNCTION treatments_refuse_signed_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on % refused: needling sessions are never deleted', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'UPDATE on % refused: needling session % is signed and read-only; write an addendum',
            TG_TABLE_NAME, OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatments_session_read_only_when_signed
    BEFORE UPDATE OR DELETE ON treatments_needlingsession
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_session();

CREATE FUNCTION treatments_refuse_signed_child() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sid bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on % refused: needling records are never deleted', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        sid := OLD.session_id;
        IF EXISTS (SELECT 1 FROM treatments_needlingsession WHERE id = sid AND signed_at IS NOT NULL) THEN
            RAISE EXCEPTION '% on % refused: needling session % is signed and read-only; write an addendum',
                TG_OP, TG_TABLE_NAME, sid USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    sid := NEW.session_id;
    IF EXISTS (SELECT 1 FROM treatments_needlingsession WHERE id = sid AND signed_at IS NOT NULL) THEN
        RAISE EXCEPTION '% on % refused: needling session % is signed and read-only; write an addendum',
            TG_OP, TG_TABLE_NAME, sid USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatments_point_read_only_when_signed
    BEFORE INSERT OR UPDATE OR DELETE ON treatments_needlepoint
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_child();
CREATE TRIGGER treatments_side_effect_read_only_when_signed
    BEFORE INSERT OR UPDATE OR DELETE ON treatments_sideeffect
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_child();

CREATE FUNCTION treatments_refuse_addendum_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: addenda are dated and never rewritten or deleted', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER treatments_addendum_append_only
    BEFORE UPDATE OR DELETE ON treatments_addendum
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_addendum_change();
"""
DROP = """
DROP TRIGGER IF EXISTS treatments_addendum_append_only ON treatments_addendum;
DROP FUNCTION IF EXISTS treatments_refuse_addendum_change();
DROP TRIGGER IF EXISTS treatments_side_effect_read_only_when_signed ON treatments_sideeffect;
DROP TRIGGER IF EXISTS treatments_point_read_only_when_signed ON treatments_needlepoint;
DROP FUNCTION IF EXISTS treatments_refuse_signed_child();
DROP TRIGGER IF EXISTS treatments_session_read_only_when_signed ON treatments_needlingsession;
DROP FUNCTION IF EXISTS treatments_refuse_signed_session();
"""


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_catalogue")]

    operations = [migrations.RunSQL(READ_ONLY, DROP)]
