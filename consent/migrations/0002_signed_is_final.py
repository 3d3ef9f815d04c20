from django.db import migrations

# A consent record must show exactly the version the patient signed (DOMAIN.md "Risk and consent") and
# is kept for the records law (BC: 16 years), so the database itself refuses:
#  - any UPDATE or DELETE of a form version once a record on it exists, and any change to its risks;
#  - any UPDATE of a consent record except the one withdrawal (withdrawal columns filled once, nothing
#    else changed), and any DELETE;
#  - any UPDATE or DELETE of a decision, and a decision on a risk of another version;
#  - at commit, a record that lacks a decision on some risk of its version (no incomplete consent).
# TRUNCATE stays with the table owner (the test runner empties tables with it).
SIGNED_IS_FINAL = """
CREATE FUNCTION consent_form_signed_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM consent_consentrecord WHERE form_id = OLD.id) THEN
        RAISE EXCEPTION '% of consent form version % refused: it has been signed and can never change',
            TG_OP, OLD.version USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER consent_form_signed_is_final
    BEFORE UPDATE OR DELETE ON consent_consentform
    FOR EACH ROW EXECUTE FUNCTION consent_form_signed_is_final();

CREATE FUNCTION consent_risk_signed_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM consent_consentrecord WHERE form_id = OLD.form_id))
       OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM consent_consentrecord WHERE form_id = NEW.form_id))
    THEN
        RAISE EXCEPTION '% of a risk of a signed consent form version refused: it can never change', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER consent_risk_signed_is_final
    BEFORE INSERT OR UPDATE OR DELETE ON consent_riskitem
    FOR EACH ROW EXECUTE FUNCTION consent_risk_signed_is_final();

CREATE FUNCTION consent_record_only_withdrawal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    probe consent_consentrecord;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL THEN
        probe := NEW;
        probe.withdrawn_at := OLD.withdrawn_at;
        probe.withdrawn_by_id := OLD.withdrawn_by_id;
        probe.withdrawal_reason := OLD.withdrawal_reason;
        IF probe IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% of a signed consent refused: it can only be withdrawn, once', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER consent_record_only_withdrawal
    BEFORE UPDATE OR DELETE ON consent_consentrecord
    FOR EACH ROW EXECUTE FUNCTION consent_record_only_withdrawal();

CREATE FUNCTION consent_decision_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (
            SELECT 1 FROM consent_consentrecord r JOIN consent_riskitem i ON i.form_id = r.form_id
            WHERE r.id = NEW.record_id AND i.id = NEW.risk_item_id
        ) THEN
            RAISE EXCEPTION 'decision refused: risk % is not on the version consent % signed',
                NEW.risk_item_id, NEW.record_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% of a consent decision refused: decisions are final', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER consent_decision_final
    BEFORE INSERT OR UPDATE OR DELETE ON consent_riskdecision
    FOR EACH ROW EXECUTE FUNCTION consent_decision_final();

CREATE FUNCTION consent_record_complete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM consent_riskitem i
        WHERE i.form_id = NEW.form_id
          AND NOT EXISTS (SELECT 1 FROM consent_riskdecision d
                          WHERE d.record_id = NEW.id AND d.risk_item_id = i.id)
    ) THEN
        RAISE EXCEPTION 'consent % refused: every risk of its version needs a decision', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER consent_record_complete
    AFTER INSERT ON consent_consentrecord DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION consent_record_complete();
"""

DROP_SIGNED_IS_FINAL = """
DROP TRIGGER IF EXISTS consent_record_complete ON consent_consentrecord;
DROP FUNCTION IF EXISTS consent_record_complete();
DROP TRIGGER IF EXISTS consent_decision_final ON consent_riskdecision;
DROP FUNCTION IF EXISTS consent_decision_final();
DROP TRIGGER IF EXISTS consent_record_only_withdrawal ON consent_consentrecord;
DROP FUNCTION IF EXISTS consent_record_only_withdrawal();
DROP TRIGGER IF EXISTS consent_risk_signed_is_final ON consent_riskitem;
DROP FUNCTION IF EXISTS consent_risk_signed_is_final();
DROP TRIGGER IF EXISTS consent_form_signed_is_final ON consent_consentform;
DROP FUNCTION IF EXISTS consent_form_signed_is_final();
"""


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunSQL(SIGNED_IS_FINAL, DROP_SIGNED_IS_FINAL)]
