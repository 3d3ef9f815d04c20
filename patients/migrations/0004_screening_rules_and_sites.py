import django.contrib.postgres.fields
from django.db import migrations, models

# Issue 11, part 3: contraindications stop the needle, precautions slow it.
#  - The pneumothorax risk factors join the screening (chronic lung disease, previous pneumothorax, low
#    body mass / thin chest wall). Screenings recorded before they existed never asked them: NULL, "not
#    asked", never a silent "no".
#  - The items that name a site (lymphoedema, recent surgery near the site, infection at the site) record
#    it as body regions and a side, so a rule can refuse that site alone.
#  - One ScreeningRule per item, seeded below with the clinic's defaults and their reasons (docs/safety.md
#    lists them); the administrator may change them in the admin.
#  - The database reads a screening's findings through one view, patients_screening_finding (the positive
#    items of every screening, with their note and site), and decides whether a finding covers a needle
#    point with one function, patients_finding_covers(): treatments' point trigger calls both, and so does
#    the demo. A new checklist item needs the view redefined in its migration.

# (item, kind, applies to, reason): the defaults. Sources: the American Physical Therapy Association's
# Description of Dry Needling in Clinical Practice (2013) and the Irish guidelines for safe dry needling
# practice (McEvoy et al. 2012), which list absolute contraindications (needle phobia, an unwilling patient
# or one unable to give consent, an area or limb with lymphoedema) and relative ones (bleeding tendency or
# anticoagulants, a compromised immune system, diabetes, pregnancy, epilepsy, metal allergy, local
# infection); DOMAIN.md for the pneumothorax risk.
DEFAULT_RULES = [
    ("bleeding_risk", "precaution", "all",
     "Relative contraindication (APTA 2013; McEvoy et al. 2012): bleeding and bruising are likelier with a "
     "bleeding disorder or anticoagulants. Needle only if judged safe: fewer insertions, firm pressure after."),
    ("pregnancy", "precaution", "all",
     "Relative contraindication (APTA 2013; McEvoy et al. 2012): avoid the abdomen and lumbopelvic points, "
     "and take particular care in the first trimester."),
    ("needle_phobia", "contraindication", "all",
     "Absolute contraindication (APTA 2013; McEvoy et al. 2012): a patient with a true needle phobia cannot "
     "be needled safely (fainting, sudden movement with a needle in place)."),
    ("immunosuppression", "precaution", "all",
     "Relative contraindication (APTA 2013; McEvoy et al. 2012): a higher risk of infection; clean "
     "technique, inspect the skin, avoid any break in it."),
    ("diabetes", "precaution", "all",
     "Relative contraindication (APTA 2013; McEvoy et al. 2012): slower healing, reduced sensation and a "
     "higher risk of infection."),
    ("epilepsy", "precaution", "all",
     "Relative contraindication (APTA 2013; McEvoy et al. 2012): the procedure or a faint may set off a "
     "seizure; treat lying down and never leave the patient alone with needles in."),
    ("lymphoedema", "contraindication", "site",
     "Absolute contraindication over an area or limb with lymphoedema (APTA 2013; McEvoy et al. 2012): "
     "cellulitis and worse swelling. Other sites may be needled."),
    ("metal_allergy", "precaution", "all",
     "Relative contraindication (McEvoy et al. 2012): a nickel or chromium allergy may react to stainless "
     "steel; use needles the patient tolerates."),
    ("recent_surgery", "contraindication", "site",
     "Needling at a recent surgical site risks infection and wound breakdown (and of any implant beneath). "
     "A relative contraindication in the guidelines, held here as one for the named site until the "
     "surgeon's clearance; other sites may be needled."),
    ("infection_at_site", "contraindication", "site",
     "Needling through an infected area spreads the infection (APTA 2013; McEvoy et al. 2012: local "
     "infection). Other sites may be needled."),
    ("unable_to_consent", "contraindication", "all",
     "Absolute contraindication (APTA 2013; McEvoy et al. 2012): needling needs the patient's own informed "
     "consent (DOMAIN.md); a patient unable to consent is not needled at all."),
    ("chronic_lung_disease", "precaution", "neck_and_mid_back",
     "Pneumothorax risk factor (DOMAIN.md): hyperinflated or bullous lungs (COPD, emphysema) lie closer and "
     "tolerate a puncture worse. Over the neck and chest wall: shortest needle, angle away, bracket the rib."),
    ("previous_pneumothorax", "precaution", "neck_and_mid_back",
     "Pneumothorax risk factor (DOMAIN.md): a previous pneumothorax marks a higher risk of another. Over "
     "the neck and chest wall: shortest needle, angle away, bracket the rib."),
    ("low_body_mass", "precaution", "neck_and_mid_back",
     "Pneumothorax risk factor: the pleura lies closer under a thin chest wall (pleura depth falls with body "
     "mass index: Valera-Calero et al.; Mitchell et al. 2018). Shortest needle, angle away, bracket the rib."),
]  # fmt: skip


def seed_rules(apps, schema_editor):
    ScreeningRule = apps.get_model("patients", "ScreeningRule")
    for item, kind, applies_to, reason in DEFAULT_RULES:
        ScreeningRule.objects.get_or_create(
            item=item, defaults={"kind": kind, "applies_to": applies_to, "reason": reason}
        )


# (item, label, has a site) as the checklist stood when this migration was written: frozen here.
ITEMS = [
    ("bleeding_risk", "Bleeding disorder or anticoagulants", False),
    ("pregnancy", "Pregnancy", False),
    ("needle_phobia", "Needle phobia", False),
    ("immunosuppression", "Immunosuppression", False),
    ("diabetes", "Diabetes", False),
    ("epilepsy", "Epilepsy", False),
    ("lymphoedema", "Lymphoedema", True),
    ("metal_allergy", "Metal allergy", False),
    ("recent_surgery", "Recent surgery near the site", True),
    ("infection_at_site", "Infection at the site", True),
    ("unable_to_consent", "Inability to consent", False),
    ("chronic_lung_disease", "Chronic lung disease (COPD, emphysema)", False),
    ("previous_pneumothorax", "Previous pneumothorax", False),
    ("low_body_mass", "Low body mass / thin chest wall", False),
]


def _values(key, label, site):
    regions = f"s.{key}_site::text[]" if site else "NULL::text[]"
    side = f"s.{key}_side" if site else "''"
    return f"('{key}', '{label}', s.{key}, s.{key}_note, {regions}, {side})"


FINDINGS = (
    """
CREATE VIEW patients_screening_finding AS
SELECT s.id AS screening_id, s.patient_id, s.answered_at, f.item, f.label, f.note, f.regions, f.side
FROM patients_screening s
CROSS JOIN LATERAL (VALUES
    """
    + ",\n    ".join(_values(*item) for item in ITEMS)
    + """
) AS f(item, label, positive, note, regions, side)
WHERE f.positive;

-- Does a finding, under its rule's reach, cover a needle point of this body region, risk region and side?
-- A site-limited finding with no site named covers every point (the site is unknown).
CREATE FUNCTION patients_finding_covers(applies_to text, regions text[], site_side text, body_region text,
                                        risk_region text, point_side text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE coalesce(applies_to, 'all')
        WHEN 'all' THEN true
        WHEN 'neck_and_mid_back' THEN risk_region IN ('neck', 'mid_back')
        ELSE coalesce(cardinality(regions), 0) = 0
             OR (body_region = ANY (regions)
                 AND (coalesce(site_side, '') IN ('', 'B') OR point_side = 'B' OR point_side = site_side))
    END
$$;
"""
)
DROP_FINDINGS = """
DROP FUNCTION IF EXISTS patients_finding_covers(text, text[], text, text, text, text);
DROP VIEW IF EXISTS patients_screening_finding;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_free_text_length_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="screening",
            name="chronic_lung_disease",
            field=models.BooleanField(
                default=None, null=True, verbose_name="Chronic lung disease (COPD, emphysema)"
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="chronic_lung_disease_note",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="Chronic lung disease (COPD, emphysema): note"
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="infection_at_site_side",
            field=models.CharField(
                blank=True,
                choices=[("L", "Left"), ("R", "Right"), ("B", "Both sides (or the midline)")],
                max_length=1,
                verbose_name="Infection at the site: side",
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="infection_at_site_site",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("face_jaw", "Face and jaw"),
                        ("neck_anterior", "Front of neck"),
                        ("neck_posterior", "Back of neck and upper trapezius"),
                        ("shoulder_front", "Shoulder (front)"),
                        ("shoulder_back", "Shoulder blade and rotator cuff"),
                        ("chest", "Chest wall"),
                        ("upper_back", "Mid back (thoracic)"),
                        ("lower_back", "Low back and sacrum"),
                        ("abdomen", "Abdomen"),
                        ("upper_arm_front", "Upper arm (front)"),
                        ("upper_arm_back", "Upper arm (back)"),
                        ("forearm_front", "Forearm (flexors)"),
                        ("forearm_back", "Forearm and hand (extensors)"),
                        ("hip_front", "Hip (front)"),
                        ("buttock", "Buttock and hip (back)"),
                        ("thigh_front", "Thigh (front and inner)"),
                        ("thigh_back", "Thigh (back)"),
                        ("leg_front", "Shin and outer leg"),
                        ("calf", "Calf"),
                    ],
                    max_length=20,
                ),
                blank=True,
                default=list,
                size=None,
                verbose_name="Infection at the site: where",
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="low_body_mass",
            field=models.BooleanField(
                default=None, null=True, verbose_name="Low body mass / thin chest wall"
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="low_body_mass_note",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="Low body mass / thin chest wall: note"
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="lymphoedema_side",
            field=models.CharField(
                blank=True,
                choices=[("L", "Left"), ("R", "Right"), ("B", "Both sides (or the midline)")],
                max_length=1,
                verbose_name="Lymphoedema: side",
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="lymphoedema_site",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("face_jaw", "Face and jaw"),
                        ("neck_anterior", "Front of neck"),
                        ("neck_posterior", "Back of neck and upper trapezius"),
                        ("shoulder_front", "Shoulder (front)"),
                        ("shoulder_back", "Shoulder blade and rotator cuff"),
                        ("chest", "Chest wall"),
                        ("upper_back", "Mid back (thoracic)"),
                        ("lower_back", "Low back and sacrum"),
                        ("abdomen", "Abdomen"),
                        ("upper_arm_front", "Upper arm (front)"),
                        ("upper_arm_back", "Upper arm (back)"),
                        ("forearm_front", "Forearm (flexors)"),
                        ("forearm_back", "Forearm and hand (extensors)"),
                        ("hip_front", "Hip (front)"),
                        ("buttock", "Buttock and hip (back)"),
                        ("thigh_front", "Thigh (front and inner)"),
                        ("thigh_back", "Thigh (back)"),
                        ("leg_front", "Shin and outer leg"),
                        ("calf", "Calf"),
                    ],
                    max_length=20,
                ),
                blank=True,
                default=list,
                size=None,
                verbose_name="Lymphoedema: where",
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="previous_pneumothorax",
            field=models.BooleanField(default=None, null=True, verbose_name="Previous pneumothorax"),
        ),
        migrations.AddField(
            model_name="screening",
            name="previous_pneumothorax_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="Previous pneumothorax: note"),
        ),
        migrations.AddField(
            model_name="screening",
            name="recent_surgery_side",
            field=models.CharField(
                blank=True,
                choices=[("L", "Left"), ("R", "Right"), ("B", "Both sides (or the midline)")],
                max_length=1,
                verbose_name="Recent surgery near the site: side",
            ),
        ),
        migrations.AddField(
            model_name="screening",
            name="recent_surgery_site",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(
                    choices=[
                        ("face_jaw", "Face and jaw"),
                        ("neck_anterior", "Front of neck"),
                        ("neck_posterior", "Back of neck and upper trapezius"),
                        ("shoulder_front", "Shoulder (front)"),
                        ("shoulder_back", "Shoulder blade and rotator cuff"),
                        ("chest", "Chest wall"),
                        ("upper_back", "Mid back (thoracic)"),
                        ("lower_back", "Low back and sacrum"),
                        ("abdomen", "Abdomen"),
                        ("upper_arm_front", "Upper arm (front)"),
                        ("upper_arm_back", "Upper arm (back)"),
                        ("forearm_front", "Forearm (flexors)"),
                        ("forearm_back", "Forearm and hand (extensors)"),
                        ("hip_front", "Hip (front)"),
                        ("buttock", "Buttock and hip (back)"),
                        ("thigh_front", "Thigh (front and inner)"),
                        ("thigh_back", "Thigh (back)"),
                        ("leg_front", "Shin and outer leg"),
                        ("calf", "Calf"),
                    ],
                    max_length=20,
                ),
                blank=True,
                default=list,
                size=None,
                verbose_name="Recent surgery near the site: where",
            ),
        ),
        migrations.CreateModel(
            name="ScreeningRule",
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
                        editable=False,
                        max_length=40,
                        unique=True,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("contraindication", "Contraindication: no needling where it applies"),
                            (
                                "precaution",
                                "Precaution: needling once the clinician acknowledges it for the session",
                            ),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "applies_to",
                    models.CharField(
                        choices=[
                            ("all", "Every point of the session"),
                            ("site", "The site the screening names (every point when no site is named)"),
                            ("neck_and_mid_back", "Neck and mid back points (over the lung fields)"),
                        ],
                        default="all",
                        max_length=20,
                    ),
                ),
                (
                    "reason",
                    models.TextField(
                        help_text="Why, with the source: shown to clinicians beside the finding."
                    ),
                ),
            ],
            options={
                "ordering": ["item"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["contraindication", "precaution"])),
                        name="screeningrule_kind",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("applies_to__in", ["all", "site", "neck_and_mid_back"])),
                        name="screeningrule_applies_to",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("applies_to", "site"), _negated=True),
                            ("item__in", ("lymphoedema", "recent_surgery", "infection_at_site")),
                            _connector="OR",
                        ),
                        name="screeningrule_site_only_for_site_items",
                        violation_error_message="Only an item that names a site can apply to that site alone.",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed_rules, migrations.RunPython.noop),
        migrations.RunSQL(FINDINGS, DROP_FINDINGS),
    ]
