from django.db import migrations

# One definition of consent (issue 11): the consent coverage figures ask consent_allows() of consent
# migration 0004, the function the needle point trigger itself calls, instead of keeping a second copy of
# the rule here (which ignored the general risks and versions requiring re-consent). The signature stays,
# so the summary triggers and the rebuild that call it need no change.
COVERAGE = """
CREATE OR REPLACE FUNCTION reports_region_consented(patient bigint, risk_region text, at timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN consent_allows(patient, risk_region, at);
END;
$$;
"""

# The copy this replaces, as reports 0002 installed it (a SQL function: the language changes back too).
PREVIOUS = """
DROP FUNCTION reports_region_consented(bigint, text, timestamptz);
CREATE FUNCTION reports_region_consented(patient bigint, risk_region text, at timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT bool_and(d.accepted) AND bool_and(c.withdrawn_at IS NULL OR c.withdrawn_at > at)
        FROM consent_consentrecord c
        JOIN consent_riskdecision d ON d.record_id = c.id
        JOIN consent_riskitem i ON i.id = d.risk_item_id AND i.region = risk_region
        WHERE c.patient_id = patient AND c.signed_at <= at
        GROUP BY c.id, c.signed_at
        ORDER BY c.signed_at DESC, c.id DESC LIMIT 1), false)
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_consent_judged_without_the_database_clock"),
        ("consent", "0004_consent_allows"),
    ]

    operations = [migrations.RunSQL(COVERAGE, PREVIOUS)]
