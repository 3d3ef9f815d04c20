from django.db import migrations

# DESIGN.md rule 1 held by the database: one SQL definition of "this patient's consent allows needling
# this region at this moment", which the needle point trigger (treatments 0006) and the reports' consent
# coverage (reports 0007) both call, so no second copy of the rule exists anywhere. It is the rule of
# consent/services.py, written once more in SQL (tests/consent/test_consent_allows_sql.py checks that the
# two agree case by case):
#  - only consents signed at or before `at` count, and only on versions not superseded by a later version
#    that requires re-consent and is in effect at `at` (published by then, effective date reached);
#  - of those, the newest consent holding a decision for the region decides: withdrawn by `at` grants
#    nothing, a declined risk blocks, the region is allowed only when every risk of it was accepted;
#  - every point needs the general risks allowed; a neck or mid back point needs its region as well.
# A version's effective date is a day in the clinic's time zone: clinic_local_date() (clinic 0001) reads
# the zone from the one-row table clinic_time_zone, whoever connects (the app, PgBouncer, psql).
# The functions read the tables at call time: nothing of today's Python is baked in.
CONSENT_ALLOWS = """
-- For each region the patient's consents decided on by at_time: the consent that decides it (the newest
-- counting one holding a decision for the region) and whether it allows needling there (every risk of
-- the region accepted, not withdrawn by then). One query for all regions, inlined by PostgreSQL where it
-- is called (the point trigger calls it once per patient and moment of a statement).
CREATE FUNCTION consent_decisions(for_patient bigint, at_time timestamptz)
RETURNS TABLE (region text, record_id bigint, allows boolean) LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (i.region) i.region::text, c.id,
           (c.withdrawn_at IS NULL OR c.withdrawn_at > at_time) AND bool_and(d.accepted)
    FROM consent_consentrecord c
    JOIN consent_consentform f ON f.id = c.form_id
    JOIN consent_riskdecision d ON d.record_id = c.id
    JOIN consent_riskitem i ON i.id = d.risk_item_id
    WHERE c.patient_id = for_patient
      AND c.signed_at <= at_time
      AND NOT EXISTS (
          SELECT 1 FROM consent_consentform n
          WHERE n.requires_reconsent
            AND n.published_at <= at_time
            AND n.effective_date <= clinic_local_date(at_time)
            AND (n.effective_date > f.effective_date
                 OR (n.effective_date = f.effective_date AND n.published_at > f.published_at)))
    GROUP BY i.region, c.id, c.signed_at, c.withdrawn_at
    ORDER BY i.region, c.signed_at DESC, c.id DESC
$$;

-- The consent whose decisions on the region decide it for the patient at at_time (allowed or not), or
-- NULL when no counting consent decided on the region.
CREATE FUNCTION consent_deciding_record(for_patient bigint, for_region text, at_time timestamptz)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT record_id FROM consent_decisions(for_patient, at_time) WHERE region = for_region
$$;

-- The consent that allows needling in the region at at_time, or NULL. For a risk region this says
-- nothing of the general risks.
CREATE FUNCTION consent_allowing_record(for_patient bigint, for_region text, at_time timestamptz)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT record_id FROM consent_decisions(for_patient, at_time) WHERE region = for_region AND allows
$$;

-- The one answer: may a point in this region ('none' or 'general' for a muscle outside the risk
-- regions, 'neck', 'mid_back') be needled for the patient at at_time.
CREATE FUNCTION consent_allows(for_patient bigint, for_region text, at_time timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT consent_allowing_record(for_patient, 'general', at_time) IS NOT NULL
       AND (for_region IN ('general', 'none')
            OR consent_allowing_record(for_patient, for_region, at_time) IS NOT NULL)
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS consent_allows(bigint, text, timestamptz);
DROP FUNCTION IF EXISTS consent_allowing_record(bigint, text, timestamptz);
DROP FUNCTION IF EXISTS consent_deciding_record(bigint, text, timestamptz);
DROP FUNCTION IF EXISTS consent_decisions(bigint, timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_free_text_length_limits"),
        ("clinic", "0001_clinic_time_zone"),
    ]

    operations = [migrations.RunSQL(CONSENT_ALLOWS, DROP)]
