from importlib import import_module

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# Issue 11, part 3, held by the database for every door: a needle point is refused when the patient's
# screening at the point's recorded_at (the latest one answered by then) has
#  - a contraindication that covers it (the whole session, the named site and side, or the neck and mid
#    back), naming the item; or
#  - a precaution that covers it, not acknowledged by the clinician for this session.
# Findings and their reach come from patients' view patients_screening_finding, the clinic's
# ScreeningRule (an item without a rule counts as a precaution on every point) and
# patients_finding_covers() (patients migration 0004), the definitions the demo uses too. Statement-level
# and set-based, as in 0006: the function below replaces 0006's, adding these two checks after the
# authorisation and consent ones. Whether a screening is due (older than SCREENING_VALID_MONTHS, a clinic
# setting the database does not hold) and whether an older screening asked the pneumothorax questions is
# refused by the service alone, with the screen saying so before any point is tried.
# Acknowledgements are kept as written: no UPDATE or DELETE, and none added to a signed session.
# The work per patient and moment (consent, screening) and per clinician and day (authorisation) is in
# MATERIALIZED steps: inlined, PostgreSQL would run it once per point (a demo load: 120,000 times).
POINTS_ALLOWED = """
CREATE OR REPLACE FUNCTION treatments_points_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    refusal text;
BEGIN
    PERFORM 1 FROM consent_consentrecord c
    WHERE c.id IN (SELECT p.consent_id FROM new_points p UNION SELECT p.region_consent_id FROM new_points p)
    ORDER BY c.id FOR SHARE;

    WITH pts AS MATERIALIZED (
        SELECT p.id, p."order", p.session_id, p.side, p.consent_id, p.region_consent_id, p.recorded_at,
               clinic_local_date(p.recorded_at) AS day,
               s.patient_id, s.clinician_id, s.started_at, m.name AS muscle, m.body_region, m.risk_region
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
    ), screened AS MATERIALIZED (
        SELECT m.patient_id, m.recorded_at, sc.id AS screening_id, sc.answered_at
        FROM moments m
        JOIN LATERAL (SELECT id, answered_at FROM patients_screening
                      WHERE patient_id = m.patient_id AND answered_at <= m.recorded_at
                      ORDER BY answered_at DESC, id DESC LIMIT 1) sc ON true
    ), findings AS MATERIALIZED (
        SELECT sd.patient_id, sd.recorded_at, sd.answered_at, f.item, f.label, f.note, f.regions, f.side,
               coalesce(r.kind, 'precaution') AS kind, coalesce(r.applies_to, 'all') AS applies_to
        FROM screened sd
        JOIN patients_screening_finding f ON f.screening_id = sd.screening_id
        LEFT JOIN patients_screeningrule r ON r.item = f.item
    ), covering AS (
        SELECT pts.id, f.kind, f.item,
               format('%s%s, on the screening of %s, %s', f.label,
                      CASE WHEN f.note <> '' THEN format(' (%s)', f.note) ELSE '' END,
                      clinic_local_date(f.answered_at),
                      CASE f.kind WHEN 'contraindication' THEN 'is a contraindication to needling here'
                           ELSE 'is a precaution not acknowledged for this session' END) AS reason
        FROM pts
        JOIN findings f ON f.patient_id = pts.patient_id AND f.recorded_at = pts.recorded_at
        WHERE patients_finding_covers(f.applies_to, f.regions, f.side, pts.body_region, pts.risk_region,
                                      pts.side)
          AND (f.kind = 'contraindication' OR NOT EXISTS (
                   SELECT 1 FROM treatments_precautionacknowledgement a
                   WHERE a.session_id = pts.session_id AND a.item = f.item))
    ), stopped AS (
        SELECT DISTINCT ON (id) id, reason FROM covering
        ORDER BY id, kind = 'precaution', item
    ), judged AS (
        SELECT pts.*, a.general_id, au.ok AS authorised,
               CASE pts.risk_region WHEN 'neck' THEN a.neck_id WHEN 'mid_back' THEN a.mid_back_id END
                   AS region_id,
               st.reason AS screening_reason
        FROM pts
        JOIN allowing a ON a.patient_id = pts.patient_id AND a.recorded_at = pts.recorded_at
        JOIN authorised au ON au.clinician_id = pts.clinician_id AND au.day = pts.day
        LEFT JOIN stopped st ON st.id = pts.id
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
               WHEN j.risk_region = 'none' AND j.region_consent_id IS NOT NULL THEN
                   'a point outside the neck and mid back refers to no region consent'
               ELSE j.screening_reason
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
       OR j.screening_reason IS NOT NULL
    ORDER BY j.session_id, j."order"
    LIMIT 1;
    IF refusal IS NOT NULL THEN
        RAISE EXCEPTION '%', refusal USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION treatments_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: this record is kept as it was written', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER treatments_acknowledgement_append_only
    BEFORE UPDATE OR DELETE ON treatments_precautionacknowledgement
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_change();
CREATE TRIGGER treatments_acknowledgement_read_only_when_signed
    BEFORE INSERT ON treatments_precautionacknowledgement
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_child();
"""

DROP = """
DROP TRIGGER IF EXISTS treatments_acknowledgement_read_only_when_signed ON treatments_precautionacknowledgement;
DROP TRIGGER IF EXISTS treatments_acknowledgement_append_only ON treatments_precautionacknowledgement;
DROP FUNCTION IF EXISTS treatments_refuse_change();
"""


def _previous_function():
    """0006's treatments_points_allowed(), which going back restores."""
    checks = import_module("treatments.migrations.0006_point_consent_links").CHECKS
    start = checks.index("CREATE FUNCTION treatments_points_allowed()")
    end = checks.index("CREATE TRIGGER treatments_point_allowed_on_insert")
    return checks[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_screening_rules_and_sites"),
        ("treatments", "0007_muscle_depth_sources"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PrecautionAcknowledgement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "item",
                    models.CharField(
                        choices=[
                            ("bleeding_risk", "Bleeding disorder or anticoagulants"),
                            ("pregnancy", "Pregnancy"),
                            ("needle_phobia", "Needle phobia"),
                            ("immunosuppression", "Immunosuppression"),
                            ("diabetes", "Diabetes"),
                            ("epilepsy", "Epilepsy"),
                            ("lymphoedema", "Lymphoedema"),
                            ("metal_allergy", "Metal allergy"),
                            ("recent_surgery", "Recent surgery near the site"),
                            ("infection_at_site", "Infection at the site"),
                            ("unable_to_consent", "Inability to consent"),
                            ("chronic_lung_disease", "Chronic lung disease (COPD, emphysema)"),
                            ("previous_pneumothorax", "Previous pneumothorax"),
                            ("low_body_mass", "Low body mass / thin chest wall"),
                        ],
                        max_length=40,
                    ),
                ),
                ("acknowledged_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "screening",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.screening"
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acknowledgements",
                        to="treatments.needlingsession",
                    ),
                ),
            ],
            options={
                "ordering": ["session", "acknowledged_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("session", "item"), name="acknowledgement_once_per_session"
                    )
                ],
            },
        ),
        migrations.RunSQL(POINTS_ALLOWED, DROP + _previous_function()),
    ]
