"""Demo consent: one published form version in plain language (general, neck and mid-back risks from
DOMAIN.md), and signed consents for most demo patients, some declining a region, some withdrawn, a few
declining the general risks. About 87% of the patients end up with the general risks accepted on a current
consent, the patients treatments/demo.py gives needling sessions (no needling at all without them).

Deterministic (who consents, what they decline and who withdraws follow from the patient's id),
idempotent (patients who already have a consent are left alone) and fast at any size: two set-based
INSERT ... SELECT statements, so 100000 patients take seconds, not minutes."""

import base64
from datetime import UTC, date, datetime

from django.db import connection, transaction

from accounts.models import Role

from .models import ConsentForm, Region, RiskItem

DEMO_VERSION = "2025.1"
PUBLISHED_AT = datetime(2025, 5, 20, 16, 0, tzinfo=UTC)
EFFECTIVE = date(2025, 6, 1)
NOW = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)

TITLE = "Consent to intramuscular stimulation (IMS) / dry needling"
BODY = """\
Intramuscular stimulation (IMS), also called dry needling, treats muscle pain and tightness. Your
physiotherapist places a fine, solid needle (no medicine is injected) into tight muscles. You may feel
a deep ache or a brief twitch of the muscle; this is expected and usually means the treatment is working.

Your physiotherapist has assessed you, explained why IMS is recommended, what other treatments you could
choose instead, and what the risks are. You can ask questions at any time. You may accept or decline each
risk below: if you decline a risk, that area will not be needled. You may stop a treatment at any moment,
and you may withdraw this consent at any time by telling any physiotherapist at the clinic.

Tell your physiotherapist before each treatment if you take blood thinners, may be pregnant, have a
bleeding disorder, diabetes, epilepsy, lymphoedema, a metal allergy, a weak immune system, an infection
near the treatment area, or recent surgery near it."""

RISKS = [
    (
        Region.GENERAL,
        "Common, mild effects",
        "Soreness or aching for up to two days after treatment (heat and water help), bruising, a little "
        "bleeding where the needle went in, and tiredness. Some people feel faint during treatment; tell us "
        "straight away if you feel unwell. Infection and a broken needle are rare.",
    ),
    (
        Region.NECK,
        "Needling the neck: a collapsed lung (pneumothorax)",
        "Near the base of the neck the top of the lung lies a few centimetres under the skin. Rarely, a "
        "needle can puncture it and let air leak around the lung. Signs can start hours to two days later: "
        "shortness of breath or chest pain when breathing in. If that happens, go to an emergency "
        "department and say you had dry needling.",
    ),
    (
        Region.MID_BACK,
        "Needling the mid back and chest wall: a collapsed lung (pneumothorax)",
        "Between and around the shoulder blades, and over the ribs, the lung lies close under the muscles. "
        "Rarely, a needle can puncture it. Signs can start hours to two days later: shortness of breath or "
        "chest pain when breathing in. If that happens, go to an emergency department and say you had dry "
        "needling.",
    ),
]

# A short pen stroke, as signature_pad writes it; every demo consent carries one.
SIGNATURE = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100" width="300" height="100">'
    b'<path d="M 12 70 C 30 20, 45 20, 60 65 S 90 95, 110 50 C 125 25, 140 80, 165 55 S 210 30, 280 60" '
    b'fill="none" stroke="black" stroke-width="2"/></svg>'
).decode("ascii")

WITHDRAWAL_REASONS = [
    "Patient prefers to continue with exercise therapy only.",
    "Patient found the post-needling soreness too uncomfortable.",
    "Patient is pregnant and wishes to stop needling.",
    "Patient moved away and is transferring care.",
]

# Shares of the patients, chosen from a hash of the patient id (deterministic, no Python loop).
CONSENT_PERCENT = 93  # most patients have consented
DECLINE_GENERAL_PERCENT = 2  # a few decline the general risks: they may not be needled at all
DECLINE_MID_BACK_PERCENT = 12
DECLINE_NECK_PERCENT = 6
WITHDRAWN_PERCENT = 4

# Buckets 0..99 from a multiplicative scramble of the id ((id * 2654435761) % 1000003 % 100, written out
# in the SQL below), so that neighbouring ids land in different buckets.

INSERT_CONSENTS = """
INSERT INTO consent_consentrecord
    (patient_id, form_id, explained_by_id, signer_name, signer_relationship, signature, signed_at,
     submission_key, withdrawn_at, withdrawn_by_id, withdrawal_reason)
SELECT p.id, %(form)s, s.explained_by, s.signer_name, s.relationship, %(signature)s, s.signed_at,
       gen_random_uuid(),
       CASE WHEN s.withdrawn THEN least(s.signed_at + interval '21 days', %(now)s::timestamptz) END,
       CASE WHEN s.withdrawn THEN s.explained_by END,
       CASE WHEN s.withdrawn THEN (%(reasons)s::text[])[1 + p.id %% cardinality(%(reasons)s::text[])]
            ELSE '' END
FROM patients_patient p
CROSS JOIN LATERAL (
    SELECT (%(physios)s::bigint[])[1 + p.id %% cardinality(%(physios)s::bigint[])] AS explained_by,
           least(greatest(p.created_at, %(effective)s::timestamptz) + (p.id %% 60) * interval '1 day',
                 %(now)s::timestamptz - interval '1 day') AS signed_at,
           CASE WHEN age(%(now)s::timestamptz, p.date_of_birth::timestamptz) < interval '19 years'
                     AND p.emergency_contact_name <> ''
                THEN 'parent_or_guardian' ELSE 'patient' END AS relationship,
           CASE WHEN age(%(now)s::timestamptz, p.date_of_birth::timestamptz) < interval '19 years'
                     AND p.emergency_contact_name <> ''
                THEN p.emergency_contact_name
                ELSE concat_ws(' ', coalesce(nullif(p.preferred_name, ''), p.given_name), p.family_name)
           END AS signer_name,
           (((p.id + 7) * 2654435761::bigint) %% 1000003) %% 100 < %(withdrawn)s AS withdrawn
) s
WHERE p.archived_at IS NULL
  AND ((p.id * 2654435761::bigint) %% 1000003) %% 100 < %(consenting)s
  AND NOT EXISTS (SELECT 1 FROM consent_consentrecord r WHERE r.patient_id = p.id)
"""

INSERT_DECISIONS = """
INSERT INTO consent_riskdecision (record_id, risk_item_id, accepted)
SELECT r.id, i.id,
       CASE i.region
           WHEN 'mid_back'
               THEN (((r.patient_id + 13) * 2654435761::bigint) %% 1000003) %% 100 >= %(decline_mid_back)s
           WHEN 'neck' THEN (((r.patient_id + 29) * 2654435761::bigint) %% 1000003) %% 100 >= %(decline_neck)s
           -- The general risks: the next two digits of the consenting hash (independent of its bucket).
           ELSE ((r.patient_id * 2654435761::bigint) %% 1000003) / 100 %% 100 >= %(decline_general)s
       END
FROM consent_consentrecord r
JOIN consent_riskitem i ON i.form_id = r.form_id
WHERE r.id > %(last_record)s
"""


def demo_form(administrator):
    """The demo's published version (made once)."""
    form = ConsentForm.objects.filter(version=DEMO_VERSION).first()
    if form is not None:
        return form
    form = ConsentForm.objects.create(
        title=TITLE,
        version=DEMO_VERSION,
        effective_date=EFFECTIVE,
        body=BODY,
        published_at=PUBLISHED_AT,
        published_by=administrator,
    )
    RiskItem.objects.bulk_create(
        RiskItem(form=form, region=region, title=title, description=description, order=order)
        for order, (region, title, description) in enumerate(RISKS, start=1)
    )
    return form


def add_consents(form, physiotherapists):
    """Consents for the patients who have none (CONSENT_PERCENT of them), with their decisions. Returns
    how many were added."""
    if not physiotherapists:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM consent_consentrecord")
        (last_record,) = cursor.fetchone()
        cursor.execute(
            INSERT_CONSENTS,
            {
                "form": form.pk,
                "signature": SIGNATURE,
                "reasons": WITHDRAWAL_REASONS,
                "physios": [user.pk for user in physiotherapists],
                "effective": datetime.combine(EFFECTIVE, datetime.min.time(), tzinfo=UTC),
                "now": NOW,
                "withdrawn": WITHDRAWN_PERCENT,
                "consenting": CONSENT_PERCENT,
            },
        )
        added = cursor.rowcount
        cursor.execute(
            INSERT_DECISIONS,
            {
                "decline_mid_back": DECLINE_MID_BACK_PERCENT,
                "decline_neck": DECLINE_NECK_PERCENT,
                "decline_general": DECLINE_GENERAL_PERCENT,
                "last_record": last_record,
            },
        )
        # The deferred completeness check runs now rather than at a commit that may come much later
        # (an outer transaction), then goes back to deferred for whatever else that transaction does.
        cursor.execute("SET CONSTRAINTS consent_record_complete IMMEDIATE")
        cursor.execute("SET CONSTRAINTS consent_record_complete DEFERRED")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE consent_consentrecord")
        cursor.execute("ANALYZE consent_riskdecision")
    return added


def seed(demo):
    staff = demo.shared.get("staff", {})
    administrator = next((user for user in staff.values() if user.role == Role.ADMIN), None)
    if administrator is None:
        return
    physiotherapists = [
        user
        for user in demo.shared.get("physiotherapists", [])
        if hasattr(user, "clinician_profile") and user.clinician_profile.needling_authorised()
    ]
    form = demo_form(administrator)
    added = add_consents(form, physiotherapists)
    demo.shared["consent_form"] = form
    demo.say(f"consent: version {form.version}, {added} consents added")
