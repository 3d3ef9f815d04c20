"""Demo needling sessions: one signed session for every completed demo appointment of a patient with
consent on file, each with needle points (about 10 on average), twitch and patient responses, and side
effects at rates close to the published ones (DOMAIN.md: Brady et al. 2014 for the mild effects, Boyce
et al. 2020 for the major ones). A completed visit has a session only when the patient's consent accepted
the general risks of needling at that visit (no needling at all without them: before the consent was
signed, after it was withdrawn, the appointment stays without one), and neck and mid back muscles are
needled only where that consent allows the region too; each point refers to the consents that allowed it,
as the database requires of every point.
The day-after follow-ups of the last ten days' neck and mid back sessions went out, and about three in
four were answered (add_follow_ups(); none with a warning sign, which would open an incident through the
service); the patients of the first few hundred with two sessions or more scored the PSFS at each
(add_psfs()), so the chart's trends, the desk's list to phone and the safety page's figures show.
Today, the first arrived patient of each demo physiotherapist is "in treatment" with a draft session,
started through the services like a real one.

Deterministic (everything follows from ids through a hash), idempotent (appointments that already have
a session are skipped) and set-based: INSERT ... SELECT over generate_series, so --size 100000 (about
770,000 sessions and 7.7 million points) takes minutes, not hours.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role

from .models import Muscle, NeedleSize, RiskRegion

# fmt: off
COMPLAINTS = [
    "Right-sided neck pain and stiffness for 3 months", "Low back pain radiating to the left buttock",
    "Lateral elbow pain with gripping", "Left shoulder pain reaching overhead",
    "Recurrent tension headaches", "Right knee pain on stairs", "Mid back ache between the shoulder blades",
    "Plantar heel pain, worse mornings", "Hip pain when lying on the left side", "Jaw pain and clicking",
]
IMPRESSIONS = [
    "Myofascial pain with active trigger points", "Segmental dysfunction with paraspinal tightness",
    "Lateral epicondylalgia", "Rotator cuff related shoulder pain", "Cervicogenic headache",
    "Patellofemoral pain", "Thoracic myofascial pain", "Plantar heel pain with calf tightness",
    "Gluteal tendinopathy", "Temporomandibular myofascial pain",
]
PLANS = [
    "IMS weekly for 4 weeks with home exercises", "IMS twice weekly for 2 weeks, then review",
    "IMS with progressive loading programme", "IMS and posture exercises; review in 3 sessions",
]
RESPONSES = [
    "Range improved, pain eased", "Less tight; moves more freely", "Ache settling; rotation improved",
    "Mild soreness; walking more comfortably",
]
# fmt: on

# Side effects per session, in tenths of a thousandth (per 100,000 sessions): Brady 2014's mild effects,
# and Boyce 2020's major ones (about 1 in 1,024 treatments) split over its three kinds.
SIDE_EFFECT_RATES = [
    ("bruising", "mild", 7550),
    ("bleeding", "mild", 4650),
    ("pain_during", "mild", 3010),
    ("pain_after", "mild", 2190),
    ("aggravation", "mild", 880),
    ("drowsiness", "mild", 260),
    ("headache", "mild", 140),
    ("nausea", "mild", 130),
    ("fatigue", "mild", 40),
    ("prolonged_aggravation", "significant", 40),
    ("excessive_bleeding", "significant", 30),
    ("pneumothorax", "serious", 28),
]
ACTIONS = {
    "bruising": "Pressure applied; advised it fades in days",
    "bleeding": "Pressure with gauze until it stopped",
    "pain_during": "Needle withdrawn; paused until settled",
    "pain_after": "Heat and hydration advised",
    "aggravation": "Reassured; load reduced for 48 hours",
    "drowsiness": "Rested 10 minutes; no driving until alert",
    "headache": "Rest and hydration",
    "nausea": "Lay down; water; settled",
    "fatigue": "Advised rest",
    "prolonged_aggravation": "Reviewed by physician; treatment paused",
    "excessive_bleeding": "Firm pressure 10 minutes; physician informed",
    "pneumothorax": "Sent to the emergency department; physician informed",
}

# The consents allowing needling (the general risks) and the neck and the mid back, for each completed
# appointment's patient at the moment its points are recorded: consent's own SQL definition
# (consent_decisions() of consent migration 0004), the one the needle point trigger checks, so a visit
# before the consent was signed or after it was withdrawn has no session, and a region is needled only
# where that visit's consent allows.
ALLOWED_SQL = """
CREATE TEMP TABLE demo_allowed ON COMMIT DROP AS
SELECT a.id AS appointment_id, a.patient_id, t.recorded_at,
       max(d.record_id) FILTER (WHERE d.region = 'general' AND d.allows) AS general_id,
       max(d.record_id) FILTER (WHERE d.region = 'neck' AND d.allows) AS neck_id,
       max(d.record_id) FILTER (WHERE d.region = 'mid_back' AND d.allows) AS mid_back_id,
       (SELECT sc.id FROM patients_screening sc
        WHERE sc.patient_id = a.patient_id AND sc.answered_at <= t.recorded_at
        ORDER BY sc.answered_at DESC, sc.id DESC LIMIT 1) AS screening_id
FROM appointments_appointment a
-- Points are recorded ten minutes into the session, within the visit (today's visits can be minutes long
-- near midnight: appointments/demo.py todays_grid()), so never after the moment of seeding.
CROSS JOIN LATERAL (SELECT a.start + LEAST(interval '15 minutes', (a."end" - a.start) / 3) AS recorded_at) t
LEFT JOIN LATERAL consent_decisions(a.patient_id, t.recorded_at) d ON true
WHERE a.status = 'completed'
  AND NOT EXISTS (SELECT 1 FROM treatments_needlingsession s WHERE s.appointment_id = a.id)
GROUP BY a.id, t.recorded_at;
DELETE FROM demo_allowed WHERE general_id IS NULL;
-- A contraindication to all needling at that visit (inability to consent, say): no needling session.
DELETE FROM demo_allowed d WHERE EXISTS (
    SELECT 1 FROM patients_screening_finding f LEFT JOIN patients_screeningrule r ON r.item = f.item
    WHERE f.screening_id = d.screening_id AND r.kind = 'contraindication'
      AND (r.applies_to = 'all' OR (r.applies_to = 'site' AND coalesce(cardinality(f.regions), 0) = 0)));
"""

SESSIONS_SQL = """
CREATE TEMP TABLE demo_sessions ON COMMIT DROP AS
WITH inserted AS (
    INSERT INTO treatments_needlingsession
        (patient_id, clinician_id, appointment_id, started_at, presenting_complaint, history, pain_before,
         rom_findings, screening_reviewed, impression, plan, pain_after, movement_change, immediate_response,
         aftercare_heat_hydration, aftercare_warning_signs, aftercare_notes, needles_in, needles_out,
         sharps_disposed, content_hash, version, created_at, updated_at, updated_by_id)
    -- Five minutes into the visit, signed 40 minutes later; never after the moment of seeding (today's
    -- visits can be minutes long near midnight: appointments/demo.py todays_grid()).
    SELECT a.patient_id, a.therapist_id, a.id, a.start + LEAST(interval '5 minutes', (a."end" - a.start) / 6),
           (%(complaints)s::text[])[a.patient_id %% cardinality(%(complaints)s::text[]) + 1],
           '', 3 + (a.id * 7 %% 6), 'Rotation and flexion limited by pain', true,
           (%(impressions)s::text[])[a.patient_id %% cardinality(%(impressions)s::text[]) + 1],
           (%(plans)s::text[])[a.id %% cardinality(%(plans)s::text[]) + 1],
           greatest(0, 3 + (a.id * 7 %% 6) - (a.id %% 5)),  -- one visit in five: no change
           'Improved', (%(responses)s::text[])[a.id %% cardinality(%(responses)s::text[]) + 1],
           true, al.neck_id IS NOT NULL OR al.mid_back_id IS NOT NULL, '', 0, 0, true, '', 1,
           a.start + LEAST(interval '5 minutes', (a."end" - a.start) / 6),
           LEAST(a.start + interval '45 minutes', %(now)s::timestamptz), a.therapist_id
    FROM appointments_appointment a
    JOIN demo_allowed al ON al.appointment_id = a.id
    RETURNING id, patient_id, clinician_id, started_at, appointment_id
)
SELECT i.id, i.patient_id, i.clinician_id, i.started_at, al.recorded_at, al.screening_id,
       al.general_id, al.neck_id, al.mid_back_id,
       al.neck_id IS NOT NULL AS neck, al.mid_back_id IS NOT NULL AS mid_back,
       -- 2 to 18 points, 10 on average
       2 + ((i.id * 2654435761) %% 1000003) %% 17 AS points
FROM inserted i JOIN demo_allowed al ON al.appointment_id = i.appointment_id;
"""

# The clinician acknowledges, at the start of each visit, every precaution its screening found (DESIGN.md
# rule 6: needed again each session).
ACKNOWLEDGEMENTS_SQL = """
INSERT INTO treatments_precautionacknowledgement
    (session_id, item, screening_id, acknowledged_by_id, acknowledged_at)
SELECT s.id, f.item, s.screening_id, s.clinician_id, s.started_at
FROM demo_sessions s
JOIN patients_screening_finding f ON f.screening_id = s.screening_id
LEFT JOIN patients_screeningrule r ON r.item = f.item
WHERE coalesce(r.kind, 'precaution') = 'precaution';
"""

# Each point draws a bucket (neck, mid back, other) allowed by consent, a muscle in it, a needle size,
# a depth within the needle and within the muscle's advisory maximum, and its responses; a point at a
# site a contraindication covers (an infection at the right calf) is not needled.
POINTS_SQL = """
INSERT INTO treatments_needlepoint
    (session_id, "order", muscle_id, side, segment, needle_size_id, depth_mm, insertions, technique,
     twitch_response, patient_response, depth_confirmed, notes, recorded_at, consent_id, region_consent_id)
SELECT c.id, row_number() OVER (PARTITION BY c.id ORDER BY c.k), c.muscle_id,
       (ARRAY['L', 'R', 'R', 'L', 'B'])[c.h %% 5 + 1],
       CASE WHEN c.segmental THEN
           CASE c.bucket WHEN 'neck' THEN (ARRAY['C3','C4','C5','C6','C7'])[c.h %% 5 + 1]
                         WHEN 'mid_back' THEN (ARRAY['T2','T3','T4','T5','T6','T7'])[c.h %% 6 + 1]
                         ELSE (ARRAY['L3','L4','L5','S1'])[c.h %% 4 + 1] END
       ELSE '' END,
       CASE WHEN c.bucket = 'other' THEN %(deep_needle)s ELSE %(short_needle)s END,
       CASE WHEN c.bucket = 'other' THEN 15 + c.h %% 30 ELSE 8 + c.h %% 10 END,
       1 + c.h %% 4,
       (ARRAY['pistoning', 'pistoning', 'pistoning', 'gunn_ims', 'static', 'rotation'])[c.h %% 6 + 1],
       CASE WHEN c.h2 < 50 THEN 'none' WHEN c.h2 < 85 THEN 'single' ELSE 'multiple' END,
       CASE WHEN c.h3 < 25 THEN 'none' WHEN c.h3 < 65 THEN 'ache' WHEN c.h3 < 80 THEN 'referred'
            ELSE 'familiar' END,
       false, '', c.recorded_at, c.general_id,
       CASE c.bucket WHEN 'neck' THEN c.neck_id WHEN 'mid_back' THEN c.mid_back_id END
FROM (
    SELECT b.*,
           CASE b.bucket
               WHEN 'neck' THEN (%(neck)s::int[])[b.h %% cardinality(%(neck)s::int[]) + 1]
               WHEN 'mid_back' THEN (%(mid_back)s::int[])[b.h %% cardinality(%(mid_back)s::int[]) + 1]
               ELSE (%(other)s::int[])[b.h %% cardinality(%(other)s::int[]) + 1] END AS muscle_id,
           CASE b.bucket
               WHEN 'neck' THEN (%(neck_seg)s::bool[])[b.h %% cardinality(%(neck)s::int[]) + 1]
               WHEN 'mid_back' THEN (%(mid_back_seg)s::bool[])[b.h %% cardinality(%(mid_back)s::int[]) + 1]
               ELSE (%(other_seg)s::bool[])[b.h %% cardinality(%(other)s::int[]) + 1] END AS segmental
    FROM (
        SELECT s.id, s.recorded_at, s.screening_id, s.general_id, s.neck_id, s.mid_back_id, g.k, r.h, r.h2,
               r.h3,
               CASE WHEN s.neck AND r.h %% 10 < 2 THEN 'neck'
                    WHEN s.mid_back AND r.h %% 10 BETWEEN 2 AND 3 THEN 'mid_back'
                    ELSE 'other' END AS bucket
        FROM demo_sessions s
        CROSS JOIN LATERAL generate_series(1, s.points) AS g(k)
        CROSS JOIN LATERAL (
            SELECT ((s.id * 31 + g.k) * 2654435761) %% 1000003 AS h,
                   ((s.id * 17 + g.k) * 40503) %% 100 AS h2,
                   ((s.id * 13 + g.k) * 69069) %% 100 AS h3
        ) r
    ) b
) c
JOIN treatments_muscle cm ON cm.id = c.muscle_id
WHERE NOT EXISTS (
    SELECT 1 FROM demo_blocked b
    WHERE b.session_id = c.id
      AND patients_finding_covers(b.applies_to, b.regions, b.side, cm.body_region, cm.risk_region,
                                  (ARRAY['L', 'R', 'R', 'L', 'B'])[c.h %% 5 + 1]));
"""

# The contraindications each visit's screening found (few), read once rather than for every point.
BLOCKED_SQL = """
CREATE TEMP TABLE demo_blocked ON COMMIT DROP AS
SELECT s.id AS session_id, f.regions, f.side, r.applies_to
FROM demo_sessions s
JOIN patients_screening_finding f ON f.screening_id = s.screening_id
JOIN patients_screeningrule r ON r.item = f.item
WHERE r.kind = 'contraindication';
ANALYZE demo_blocked;
"""

SIDE_EFFECTS_SQL = """
INSERT INTO treatments_sideeffect
    (session_id, type, severity, onset, duration, action_taken, resolved, description, recorded_at)
SELECT s.id, r.type, r.severity,
       CASE WHEN r.type IN ('pain_after', 'aggravation', 'prolonged_aggravation', 'fatigue', 'pneumothorax')
            THEN 'within_24h' WHEN r.type IN ('bruising') THEN 'immediately' ELSE 'during' END,
       CASE r.severity WHEN 'mild' THEN '1 day' ELSE '1 week' END,
       (%(actions)s::jsonb) ->> r.type, r.severity = 'mild', '',
       LEAST(s.started_at + interval '30 minutes', %(now)s::timestamptz)
FROM demo_sessions s
CROSS JOIN LATERAL (SELECT ((s.id * 48271) %% 2147483647) %% 100000 AS h) x
JOIN (
    SELECT type, severity, lower_bound, lower_bound + rate AS upper_bound
    FROM unnest(%(types)s::text[], %(severities)s::text[], %(lower)s::int[], %(rates)s::int[])
         AS t(type, severity, lower_bound, rate)
) r ON x.h >= r.lower_bound AND x.h < r.upper_bound
-- A pneumothorax only after a neck or mid back point.
WHERE r.type <> 'pneumothorax' OR EXISTS (
    SELECT 1 FROM treatments_needlepoint p JOIN treatments_muscle m ON m.id = p.muscle_id
    WHERE p.session_id = s.id AND m.risk_region <> 'none');
"""

# A small demo still shows a critical event being followed up: when no visit of the last fortnight drew a
# significant or serious side effect, the most recent one brings a prolonged aggravation (about 1 in 2,500
# treatments in Boyce 2020). The database opens an incident for each such side effect (migration 0010).
A_RECENT_INCIDENT_SQL = """
INSERT INTO treatments_sideeffect
    (session_id, type, severity, onset, duration, action_taken, resolved, description, recorded_at)
SELECT s.id, 'prolonged_aggravation', 'significant', 'within_24h', '5 days',
       'Reviewed by the physician; needling paused', false, '',
       LEAST(s.started_at + interval '30 minutes', %(now)s::timestamptz)
FROM demo_sessions s
WHERE NOT EXISTS (SELECT 1 FROM treatments_sideeffect e JOIN demo_sessions d ON d.id = e.session_id
                  WHERE e.severity IN ('significant', 'serious') AND e.recorded_at >= %(cutoff)s)
ORDER BY s.started_at DESC, s.id DESC
LIMIT 1;
"""

# Incidents of more than a fortnight ago have been followed up and closed: the action taken, a phone
# call to the patient the next day, and the closing by the manager; the recent ones are still open.
FOLLOW_UP_SQL = """
INSERT INTO treatments_incidententry
    (incident_id, kind, contact_method, text, happened_at, recorded_by_id, recorded_at)
SELECT i.id, x.kind, x.method, x.text, i.opened_at + x.later, i.clinician_id, i.opened_at + x.later
FROM treatments_incident i
JOIN demo_sessions d ON d.id = i.session_id
CROSS JOIN (VALUES
    ('action', '', 'Advised rest and when to seek care; informed the family physician', interval '1 hour'),
    ('follow_up', 'phone', 'Phoned the patient: symptoms settling, no further care needed', interval '1 day')
) AS x(kind, method, text, later)
WHERE i.status = 'open' AND i.opened_at < %(cutoff)s;
UPDATE treatments_incident i
SET alerted_at = i.opened_at, status = 'closed', closed_at = i.opened_at + interval '3 days',
    closed_by_id = coalesce(%(manager)s, i.clinician_id),
    closing_note = 'Recovered fully; no change to the treatment plan needed.'
FROM demo_sessions d
WHERE d.id = i.session_id AND i.status = 'open' AND i.opened_at < %(cutoff)s;
UPDATE treatments_incident i SET alerted_at = i.opened_at
FROM demo_sessions d WHERE d.id = i.session_id AND i.alerted_at IS NULL;
"""

SIGN_SQL = """
-- Needles in and out: the points actually needled (a contraindicated site drew none).
UPDATE treatments_needlingsession t
SET needles_in = c.needled, needles_out = c.needled, aftercare_warning_signs = c.risk
FROM (SELECT d.id, count(p.id) AS needled, coalesce(bool_or(m.risk_region <> 'none'), false) AS risk
      FROM demo_sessions d
      LEFT JOIN treatments_needlepoint p ON p.session_id = d.id
      LEFT JOIN treatments_muscle m ON m.id = p.muscle_id
      GROUP BY d.id) c
WHERE c.id = t.id;
UPDATE treatments_needlingsession t
SET signed_at = x.signed_at, signed_by_id = t.clinician_id,
    content_hash = treatments_content_hash(t.id, x.signed_at, t.clinician_id)
FROM demo_sessions d
CROSS JOIN LATERAL (SELECT LEAST(d.started_at + interval '40 minutes', %(now)s::timestamptz) AS signed_at) x
WHERE d.id = t.id;
"""


def _catalogue():
    """Muscle ids (and whether a segment applies) per bucket, and the two needles the demo uses."""
    buckets = {"neck": [], "mid_back": [], "other": []}
    for muscle in Muscle.objects.filter(active=True).order_by("pk"):
        if muscle.risk_region == RiskRegion.NECK:
            buckets["neck"].append(muscle)
        elif muscle.risk_region == RiskRegion.MID_BACK:
            buckets["mid_back"].append(muscle)
        else:
            buckets["other"].append(muscle)
    # Risk-region points use 0.25 x 30 mm at 8 to 17 mm: within every advisory maximum (rhomboids 19 mm).
    short = NeedleSize.objects.get(gauge_mm="0.25", length_mm=30)
    deep = NeedleSize.objects.get(gauge_mm="0.30", length_mm=50)
    return buckets, short, deep


def _side_effect_params():
    types, severities, lower, rates = [], [], [], []
    bound = 0
    for kind, severity, rate in SIDE_EFFECT_RATES:
        types.append(kind)
        severities.append(severity)
        lower.append(bound)
        rates.append(rate)
        bound += rate
    return {"types": types, "severities": severities, "lower": lower, "rates": rates}


def add_sessions(manager=None):
    """Signed sessions for every completed appointment that has none, of patients whose consent accepted
    the general risks at that visit, and the follow-up of the incidents they opened (closed by `manager`
    when over a fortnight old); returns how many were added."""
    import json

    buckets, short, deep = _catalogue()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropped by hand too: inside an outer transaction (tests) ON COMMIT has not come yet.
        cursor.execute("DROP TABLE IF EXISTS demo_allowed, demo_sessions, demo_blocked")
        cursor.execute(ALLOWED_SQL)
        cursor.execute(
            SESSIONS_SQL,
            {
                "complaints": COMPLAINTS,
                "impressions": IMPRESSIONS,
                "plans": PLANS,
                "responses": RESPONSES,
                "now": now,
            },
        )
        cursor.execute("SELECT count(*) FROM demo_sessions")
        (added,) = cursor.fetchone()
        if not added:
            cursor.execute("DROP TABLE demo_allowed, demo_sessions")
            return 0
        cursor.execute("ANALYZE demo_sessions")
        cursor.execute(ACKNOWLEDGEMENTS_SQL)
        cursor.execute(BLOCKED_SQL)
        cursor.execute(
            POINTS_SQL,
            {
                **{name: [m.pk for m in muscles] for name, muscles in buckets.items()},
                **{f"{name}_seg": [m.segment_applies for m in muscles] for name, muscles in buckets.items()},
                "short_needle": short.pk,
                "deep_needle": deep.pk,
            },
        )
        cursor.execute(
            SIDE_EFFECTS_SQL, {"actions": json.dumps(ACTIONS), "now": now, **_side_effect_params()}
        )
        fortnight_ago = now - timedelta(days=14)
        cursor.execute(A_RECENT_INCIDENT_SQL, {"cutoff": fortnight_ago, "now": now})
        cursor.execute(SIGN_SQL, {"now": now})
        cursor.execute(FOLLOW_UP_SQL, {"cutoff": fortnight_ago, "manager": manager.pk if manager else None})
        for table in ("treatments_needlingsession", "treatments_needlepoint", "treatments_sideeffect"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("DROP TABLE demo_allowed, demo_sessions, demo_blocked")
    return added


def start_todays_drafts(physiotherapists):
    """The first arrived patient of each demo physiotherapist today is in treatment with a draft session
    (through the services, so the appointment's history and the audit trail show it)."""
    from appointments.models import Appointment
    from appointments.selectors import local_day_bounds

    from .services import start_session_from_appointment

    start, end = local_day_bounds(timezone.localdate())
    started = 0
    for physio in physiotherapists:
        appointment = (
            Appointment.objects.filter(therapist=physio, start__gte=start, start__lt=end, status="arrived")
            .exclude(needling_session__isnull=False)
            .order_by("start")
            .first()
        )
        already = Appointment.objects.filter(
            therapist=physio, start__gte=start, start__lt=end, status="in_treatment"
        ).exists()
        if appointment is None or already:
            continue
        start_session_from_appointment(appointment, by=physio)
        started += 1
    return started


def seed(demo):
    # Sessions follow the demo appointments, which appointments/demo.py (earlier in INSTALLED_APPS) booked.
    physiotherapists = [
        user
        for user in demo.shared.get("physiotherapists", [])
        if hasattr(user, "clinician_profile") and user.clinician_profile.needling_authorised()
    ]
    staff = demo.shared.get("staff", {}).values()
    manager = next((user for user in staff if user.role == Role.MANAGER), None)
    added = add_sessions(manager)
    drafts = start_todays_drafts(physiotherapists)
    follow_ups = add_follow_ups()
    scored = add_psfs()
    demo.say(
        f"treatments: {added} signed sessions added, {drafts} draft(s) in treatment today, "
        f"{follow_ups} follow-ups sent, {scored} PSFS scorings"
    )


# The follow-up e-mail goes out the morning after (treatments/followup.py sessions_due()); answered within
# hours by about three patients in four, with the soreness and bruising the published rates make common.
FOLLOW_UPS_SQL = """
INSERT INTO treatments_followup
    (session_id, sent_at, answered_at, soreness, bruising, short_of_breath, chest_pain, pain_breathing_in,
     comment, phoned_note)
SELECT s.id, sent.at,
       CASE WHEN s.id %% 4 <> 0 AND sent.at + answer.after <= %(now)s THEN sent.at + answer.after END,
       CASE WHEN s.id %% 4 <> 0 AND sent.at + answer.after <= %(now)s THEN (s.id / 4) %% 7 END,
       CASE WHEN s.id %% 4 <> 0 AND sent.at + answer.after <= %(now)s THEN s.id %% 3 = 0 END,
       false, false, false, '', ''
FROM treatments_needlingsession s
JOIN patients_patient p ON p.id = s.patient_id AND p.email <> ''
CROSS JOIN LATERAL (
    SELECT date_trunc('day', s.signed_at AT TIME ZONE %(tz)s) + interval '1 day 9 hours' AS local_at
) next_morning
CROSS JOIN LATERAL (SELECT next_morning.local_at AT TIME ZONE %(tz)s AS at) sent
CROSS JOIN LATERAL (SELECT make_interval(hours => (1 + s.id %% 9)::int) AS after) answer
WHERE s.signed_at >= %(since)s AND sent.at <= %(now)s
  AND EXISTS (
      SELECT 1 FROM treatments_needlepoint pt JOIN treatments_muscle m ON m.id = pt.muscle_id
      WHERE pt.session_id = s.id AND m.risk_region IN ('neck', 'mid_back')
        AND NOT EXISTS (SELECT 1 FROM treatments_pointremoval r WHERE r.point_id = pt.id))
  AND NOT EXISTS (SELECT 1 FROM treatments_followup f WHERE f.session_id = s.id)
"""


def add_follow_ups():
    """The follow-ups of the last ten days' signed sessions with a neck or mid back point; returns how many
    were added."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            FOLLOW_UPS_SQL,
            {"now": now, "since": now - timedelta(days=10), "tz": timezone.get_current_timezone_name()},
        )
        return cursor.rowcount


# Activities a patient of this clinic finds hard (the PSFS asks the patient to name them).
PSFS_ACTIVITIES = [
    "Turning my head to reverse the car",
    "Sitting at the computer for an hour",
    "Lifting my child",
    "Running 5 km",
    "Sleeping on my side",
    "Climbing stairs",
    "Reaching the top shelf",
]
PSFS_PATIENTS = 300

# Two or three activities per patient (distinct: steps of 3 over 7), scored at each signed session, ten
# minutes in, by its clinician; the scores rise as the course goes on. The measure's score is the mean of
# its items to two decimals, as treatments/outcomes.py psfs_score() computes it.
PSFS_SQL = """
CREATE TEMP TABLE demo_psfs ON COMMIT DROP AS
WITH patients AS (
    SELECT patient_id FROM treatments_needlingsession WHERE signed_at IS NOT NULL
    GROUP BY patient_id HAVING count(*) >= 2 ORDER BY patient_id LIMIT %(patients)s
), sessions AS (
    SELECT s.id, s.patient_id, s.clinician_id, s.started_at,
           row_number() OVER (PARTITION BY s.patient_id ORDER BY s.started_at, s.id) AS n
    FROM treatments_needlingsession s JOIN patients USING (patient_id)
    WHERE s.signed_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM treatments_outcomemeasure o WHERE o.patient_id = s.patient_id)
)
SELECT s.id AS session_id, s.patient_id, s.clinician_id, s.started_at + interval '10 minutes' AS scored_at,
       k,
       (%(activities)s::text[])[1 + (s.patient_id + 3 * k) %% cardinality(%(activities)s::text[])]
           AS activity,
       LEAST(10, 2 + (s.patient_id + k) %% 3 + (s.n - 1) * (1 + k %% 2))::smallint AS score
FROM sessions s CROSS JOIN LATERAL generate_series(1, 2 + s.patient_id %% 2) AS k
"""
PSFS_INSERT_SQL = """
WITH measures AS (
    INSERT INTO treatments_outcomemeasure (patient_id, kind, session_id, scored_at, recorded_by_id, score)
    SELECT patient_id, 'psfs', session_id, scored_at, clinician_id, round(avg(score), 2)
    FROM demo_psfs GROUP BY patient_id, session_id, scored_at, clinician_id
    RETURNING id, session_id
)
INSERT INTO treatments_outcomeitem (measure_id, "order", activity, score)
SELECT m.id, d.k, d.activity, d.score FROM measures m JOIN demo_psfs d USING (session_id)
"""


def add_psfs():
    """PSFS scorings at each signed session of the first PSFS_PATIENTS patients with two or more and none
    scored yet; returns how many scorings were added."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS demo_psfs")
        cursor.execute(PSFS_SQL, {"patients": PSFS_PATIENTS, "activities": PSFS_ACTIVITIES})
        cursor.execute(PSFS_INSERT_SQL)
        cursor.execute("SELECT count(DISTINCT session_id) FROM demo_psfs")
        (scored,) = cursor.fetchone()
        cursor.execute("DROP TABLE demo_psfs")
    return scored
