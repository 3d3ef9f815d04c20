import sys

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import treatments.models

# DESIGN.md rule 1 and rule 4 held by the database, for every door (service, bulk_create, raw SQL, an
# import): a needle point refers to the consent(s) that allowed it when it was recorded, and a statement
# trigger refuses any inserted or updated point unless, at its recorded_at,
#  - it was recorded within its session (not before the session started: no backdating);
#  - its session's clinician holds a needling authorisation for that clinic day (active physiotherapist,
#    on the roster, not lapsed): an authorisation that lapses mid-session stops further points;
#  - `consent` is the consent that allows needling at all (the general risks) and, for a neck or mid back
#    muscle, `region_consent` the one that allows that region: consent_decisions() of consent migration
#    0004 (the definition behind consent_allows(), which the reports' coverage reads). A point outside the risk regions
#    refers to no region consent.
# Statement-level with a transition table, so a load of a million points runs a few set-based queries
# (the consent functions once per patient and moment), not a million row triggers. The consents a
# statement relies on are locked FOR SHARE first: a withdrawal racing a point waits for it, or the point
# waits for the withdrawal and is refused.
# Sessions: only an authorised clinician starts one, or takes one over (the same test on insert, and when
# an update changes the clinician).
# SQLSTATE check_violation: Django raises IntegrityError, which the services turn into a message.
CHECKS = """
CREATE FUNCTION treatments_clinician_authorised(clinician bigint, on_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM accounts_user u JOIN accounts_clinicianprofile cp ON cp.user_id = u.id
        WHERE u.id = clinician AND u.is_active AND u.role = 'physiotherapist'
          AND cp.needling_authorised_on IS NOT NULL AND cp.needling_authorised_on <= on_day
          AND (cp.needling_authorisation_expires IS NULL OR cp.needling_authorisation_expires >= on_day))
$$;

CREATE FUNCTION treatments_points_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    refusal text;
BEGIN
    PERFORM 1 FROM consent_consentrecord c
    WHERE c.id IN (SELECT p.consent_id FROM new_points p UNION SELECT p.region_consent_id FROM new_points p)
    ORDER BY c.id FOR SHARE;

    WITH pts AS MATERIALIZED (
        SELECT p.id, p."order", p.session_id, p.consent_id, p.region_consent_id, p.recorded_at,
               clinic_local_date(p.recorded_at) AS day,
               s.patient_id, s.clinician_id, s.started_at, m.name AS muscle, m.risk_region
        FROM new_points p
        JOIN treatments_needlingsession s ON s.id = p.session_id
        JOIN treatments_muscle m ON m.id = p.muscle_id
    ), moments AS MATERIALIZED (
        SELECT patient_id, recorded_at, bool_or(risk_region = 'neck') AS neck,
               bool_or(risk_region = 'mid_back') AS mid_back
        FROM pts GROUP BY patient_id, recorded_at
    ), authorised AS MATERIALIZED (
        SELECT clinician_id, day, treatments_clinician_authorised(clinician_id, day) AS ok
        FROM (SELECT DISTINCT clinician_id, day FROM pts) d
    ), allowing AS MATERIALIZED (
        SELECT m.patient_id, m.recorded_at,
               max(d.record_id) FILTER (WHERE d.region = 'general' AND d.allows) AS general_id,
               max(d.record_id) FILTER (WHERE d.region = 'neck' AND d.allows) AS neck_id,
               max(d.record_id) FILTER (WHERE d.region = 'mid_back' AND d.allows) AS mid_back_id
        FROM moments m LEFT JOIN LATERAL consent_decisions(m.patient_id, m.recorded_at) d ON true
        GROUP BY m.patient_id, m.recorded_at
    ), judged AS (
        SELECT pts.*, a.general_id, au.ok AS authorised,
               CASE pts.risk_region WHEN 'neck' THEN a.neck_id WHEN 'mid_back' THEN a.mid_back_id END
                   AS region_id
        FROM pts
        JOIN allowing a ON a.patient_id = pts.patient_id AND a.recorded_at = pts.recorded_at
        JOIN authorised au ON au.clinician_id = pts.clinician_id AND au.day = pts.day
    )
    SELECT format('needle point %s (%s) of session %s refused: %s', j."order", j.muscle, j.session_id,
           CASE
               WHEN j.recorded_at < j.started_at THEN
                   'it is dated before its session started'
               WHEN NOT j.authorised THEN
                   format('the session''s clinician (user %s) has no current needling authorisation',
                          j.clinician_id)
               WHEN j.general_id IS NULL THEN
                   'no consent allowing needling (the general risks accepted on a current, signed, not '
                   || 'withdrawn consent) is on file for the patient'
               WHEN j.consent_id IS DISTINCT FROM j.general_id THEN
                   format('it must refer to consent %s, the one allowing needling now (it refers to %s)',
                          j.general_id, coalesce(j.consent_id::text, 'none'))
               WHEN j.risk_region <> 'none' AND j.region_id IS NULL THEN
                   format('no consent allowing the %s region is on file for the patient',
                          replace(j.risk_region, '_', ' '))
               WHEN j.risk_region <> 'none' AND j.region_consent_id IS DISTINCT FROM j.region_id THEN
                   format('it must refer to consent %s for the %s region (it refers to %s)', j.region_id,
                          replace(j.risk_region, '_', ' '), coalesce(j.region_consent_id::text, 'none'))
               ELSE 'a point outside the neck and mid back refers to no region consent'
           END)
    INTO refusal
    FROM judged j
    WHERE j.recorded_at < j.started_at
       OR NOT j.authorised
       OR j.general_id IS NULL
       OR j.consent_id IS DISTINCT FROM j.general_id
       OR (j.risk_region <> 'none' AND j.region_consent_id IS DISTINCT FROM j.region_id)
       OR (j.risk_region <> 'none' AND j.region_id IS NULL)
       OR (j.risk_region = 'none' AND j.region_consent_id IS NOT NULL)
    ORDER BY j.session_id, j."order"
    LIMIT 1;
    IF refusal IS NOT NULL THEN
        RAISE EXCEPTION '%', refusal USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER treatments_point_allowed_on_insert AFTER INSERT ON treatments_needlepoint
    REFERENCING NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION treatments_points_allowed();
CREATE TRIGGER treatments_point_allowed_on_update AFTER UPDATE ON treatments_needlepoint
    REFERENCING NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION treatments_points_allowed();

CREATE FUNCTION treatments_sessions_authorised() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    refusal text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT format('needling session for patient %s refused: its clinician (user %s) has no needling '
                      || 'authorisation on file for %s', n.patient_id, n.clinician_id,
                      clinic_local_date(n.started_at))
        INTO refusal
        FROM new_sessions n
        WHERE NOT treatments_clinician_authorised(n.clinician_id, clinic_local_date(n.started_at))
        LIMIT 1;
    ELSE
        SELECT format('needling session %s refused: its new clinician (user %s) has no current needling '
                      || 'authorisation', n.id, n.clinician_id)
        INTO refusal
        FROM new_sessions n JOIN old_sessions o ON o.id = n.id
        WHERE n.clinician_id <> o.clinician_id
          AND NOT treatments_clinician_authorised(n.clinician_id, clinic_local_date(clock_timestamp()))
        LIMIT 1;
    END IF;
    IF refusal IS NOT NULL THEN
        RAISE EXCEPTION '%', refusal USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER treatments_session_clinician_authorised_on_insert AFTER INSERT ON treatments_needlingsession
    REFERENCING NEW TABLE AS new_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION treatments_sessions_authorised();
CREATE TRIGGER treatments_session_clinician_authorised_on_update AFTER UPDATE ON treatments_needlingsession
    REFERENCING OLD TABLE AS old_sessions NEW TABLE AS new_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION treatments_sessions_authorised();
"""

DROP_CHECKS = """
DROP TRIGGER IF EXISTS treatments_session_clinician_authorised_on_update ON treatments_needlingsession;
DROP TRIGGER IF EXISTS treatments_session_clinician_authorised_on_insert ON treatments_needlingsession;
DROP FUNCTION IF EXISTS treatments_sessions_authorised();
DROP TRIGGER IF EXISTS treatments_point_allowed_on_update ON treatments_needlepoint;
DROP TRIGGER IF EXISTS treatments_point_allowed_on_insert ON treatments_needlepoint;
DROP FUNCTION IF EXISTS treatments_points_allowed();
DROP FUNCTION IF EXISTS treatments_clinician_authorised(bigint, date);
"""

# Points recorded before this migration carry no time of their own, so each is dated and linked at the
# first of these moments when consent allowed it: the session's signing (the points existed by then; now
# for a draft), else the session's start. A point that no consent allowed at either moment (a legacy bulk
# load, say) keeps no link and is dated at signing: it is not invented a consent, nothing is deleted, the
# database does not re-judge rows that are not written again, and the reports' consent coverage counts
# its session as not covered (the alarm the administrator follows up). The migration says how many.
# Signed points are immutable (migration 0003), so the backfill runs with the table's triggers off.
BACKFILL = """
ALTER TABLE treatments_needlepoint DISABLE TRIGGER USER;
WITH moments AS (
    -- Two candidate moments per session (its points share them), judged once per session.
    SELECT s.id AS session_id, s.patient_id, t.at_time, t.rank
    FROM treatments_needlingsession s
    CROSS JOIN LATERAL (VALUES (coalesce(s.signed_at, clock_timestamp()), 1), (s.started_at, 2)) AS t(at_time, rank)
    WHERE EXISTS (SELECT 1 FROM treatments_needlepoint p WHERE p.session_id = s.id)
), judged AS (
    SELECT mo.session_id, mo.at_time, mo.rank,
           max(d.record_id) FILTER (WHERE d.region = 'general' AND d.allows) AS general_id,
           max(d.record_id) FILTER (WHERE d.region = 'neck' AND d.allows) AS neck_id,
           max(d.record_id) FILTER (WHERE d.region = 'mid_back' AND d.allows) AS mid_back_id
    FROM moments mo LEFT JOIN LATERAL consent_decisions(mo.patient_id, mo.at_time) d ON true
    GROUP BY mo.session_id, mo.at_time, mo.rank
), per_point AS (
    SELECT p.id, j.at_time, j.rank, j.general_id,
           CASE m.risk_region WHEN 'neck' THEN j.neck_id WHEN 'mid_back' THEN j.mid_back_id END AS region_id,
           m.risk_region
    FROM treatments_needlepoint p
    JOIN treatments_muscle m ON m.id = p.muscle_id
    JOIN judged j ON j.session_id = p.session_id
), chosen AS (
    SELECT DISTINCT ON (id) id, at_time, general_id, region_id, risk_region
    FROM per_point
    ORDER BY id, (general_id IS NOT NULL AND (risk_region = 'none' OR region_id IS NOT NULL)) DESC, rank
)
UPDATE treatments_needlepoint p
SET recorded_at = c.at_time,
    consent_id = CASE WHEN c.general_id IS NOT NULL AND (c.risk_region = 'none' OR c.region_id IS NOT NULL)
                      THEN c.general_id END,
    region_consent_id = CASE WHEN c.general_id IS NOT NULL AND c.risk_region <> 'none' THEN c.region_id END
FROM chosen c
WHERE c.id = p.id;
-- The new foreign keys are checked now, so that the table has no pending trigger events to alter it.
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE treatments_needlepoint ENABLE TRIGGER USER;
"""


def report_unlinked(apps, schema_editor):
    NeedlePoint = apps.get_model("treatments", "NeedlePoint")
    unlinked = NeedlePoint.objects.filter(consent__isnull=True).count()
    if unlinked:
        sys.stdout.write(
            f"\n  treatments 0006: {unlinked} needle point(s) had no consent allowing them when recorded; "
            "they keep no consent link and their sessions show as not covered in Reports > consent "
            "coverage.\n"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("consent", "0004_consent_allows"),
        ("treatments", "0005_free_text_length_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="needlepoint",
            name="consent",
            field=models.ForeignKey(
                editable=False,
                help_text="The consent whose acceptance of the general risks allowed this point.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.consentrecord",
                verbose_name="consent (general risks)",
            ),
        ),
        migrations.AddField(
            model_name="needlepoint",
            name="recorded_at",
            field=models.DateTimeField(
                db_default=treatments.models.ClockTimestamp(),
                default=django.utils.timezone.now,
                editable=False,
            ),
        ),
        migrations.AddField(
            model_name="needlepoint",
            name="region_consent",
            field=models.ForeignKey(
                editable=False,
                help_text="For a neck or mid back point: the consent whose acceptance of that region allowed it.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.consentrecord",
                verbose_name="consent (neck or mid back)",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.RunPython(report_unlinked, migrations.RunPython.noop),
        migrations.RunSQL(CHECKS, DROP_CHECKS),
    ]
