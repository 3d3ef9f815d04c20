"""The muscles and needle sizes seeded by migration 0002, which keeps a frozen copy of these lists
(administrators edit them afterwards in the admin).

Risk regions follow DOMAIN.md: the neck (cervical) and the mid back (thoracic, intrascapular, chest wall)
carry the risk of pneumothorax and need an accepted consent for that region.

Advisory maximum depths are set only where a published source gives a figure for that muscle, and the
source is cited beside it (DEPTH_SOURCES; the admin shows it and refuses a depth without one). Never
invent one: a depth that is safe for most people is not safe for a thin patient, and an average distance
to the lung is not a limit (half of all people are shallower). So:
- Rhomboid major, 19 mm: Valera-Calero et al., an ultrasound study of 59 healthy adults (236
  measurements), recommend "a maximum length of 19 mm ... to reach the deep limit of rhomboid major"
  without passing the pleura. The study measured rhomboid major only: rhomboid minor gets no figure
  (migration 0007 removes the 19 mm it was seeded with).
- The neck: in cadavers the average distance to the lung field at the angle of the neck was 33 mm, and a
  31 mm needle has been documented to reach lung tissue (as cited in the Allied Health Professions
  Council of South Africa's dry needling safety guidelines, 5.1 Thorax). That is a distance to the lung,
  not a safe depth for any one muscle, so no neck muscle carries a number.
Every muscle over the lung fields (the neck and mid back risk regions) without a figure shows the prompt
LUNG_FIELD_PROMPT instead of a number (treatments/templates/treatments/_point_form.html).
"""

LUNG_FIELD_PROMPT = (
    "Lung field: no published safe depth for this muscle. Angle the needle away from the chest wall, "
    "bracket the rib between two fingers (or pincer-grip the muscle), and use the shortest needle that "
    "reaches the muscle."
)
# The prompt as the point form's muscle list shows it.
LUNG_FIELD_SHORT = "lung field: angle away, bracket the rib"
VALERA_CALERO_RHOMBOID = (
    "Valera-Calero JA et al., ultrasound of rhomboid major and pleura depth in 59 healthy adults: "
    "a maximum of 19 mm to reach the deep limit of rhomboid major (Authorea preprint, "
    "authorea.com/users/319890)"
)
# Muscle name -> the published source of its advisory maximum depth.
DEPTH_SOURCES = {"Rhomboid major": VALERA_CALERO_RHOMBOID}

# (name, body region, risk region, advisory max depth mm or None, segment applies)
# fmt: off
MUSCLES = [
    # Back of neck: cervical risk region
    ("Upper trapezius", "neck_posterior", "neck", None, False),
    ("Levator scapulae", "neck_posterior", "neck", None, False),
    ("Splenius capitis", "neck_posterior", "neck", None, False),
    ("Splenius cervicis", "neck_posterior", "neck", None, False),
    ("Semispinalis capitis", "neck_posterior", "neck", None, False),
    ("Suboccipitals", "neck_posterior", "neck", None, False),
    ("Cervical paraspinals", "neck_posterior", "neck", None, True),
    ("Multifidus (cervical)", "neck_posterior", "neck", None, True),
    # Front of neck
    ("Sternocleidomastoid", "neck_anterior", "neck", None, False),
    ("Anterior scalene", "neck_anterior", "neck", None, False),
    ("Middle and posterior scalenes", "neck_anterior", "neck", None, False),
    # Face and jaw
    ("Masseter", "face_jaw", "none", None, False),
    ("Temporalis", "face_jaw", "none", None, False),
    ("Lateral pterygoid", "face_jaw", "none", None, False),
    # Mid back: thoracic risk region
    ("Rhomboid major", "upper_back", "mid_back", 19, False),
    ("Rhomboid minor", "upper_back", "mid_back", None, False),
    ("Middle trapezius", "upper_back", "mid_back", None, False),
    ("Lower trapezius", "upper_back", "mid_back", None, False),
    ("Thoracic paraspinals / erector spinae", "upper_back", "mid_back", None, True),
    ("Multifidus (thoracic)", "upper_back", "mid_back", None, True),
    ("Iliocostalis thoracis", "upper_back", "mid_back", None, True),
    ("Serratus posterior superior", "upper_back", "mid_back", None, False),
    # Chest wall: thoracic risk region
    ("Pectoralis major", "chest", "mid_back", None, False),
    ("Pectoralis minor", "chest", "mid_back", None, False),
    ("Serratus anterior", "chest", "mid_back", None, False),
    # Shoulder blade and rotator cuff
    ("Supraspinatus", "shoulder_back", "none", None, False),
    ("Infraspinatus", "shoulder_back", "none", None, False),
    ("Teres minor", "shoulder_back", "none", None, False),
    ("Teres major", "shoulder_back", "none", None, False),
    ("Posterior deltoid", "shoulder_back", "none", None, False),
    ("Latissimus dorsi", "shoulder_back", "none", None, False),
    # Shoulder (front)
    ("Anterior deltoid", "shoulder_front", "none", None, False),
    ("Middle deltoid", "shoulder_front", "none", None, False),
    ("Subscapularis", "shoulder_front", "none", None, False),
    # Arm
    ("Biceps brachii", "upper_arm_front", "none", None, False),
    ("Brachialis", "upper_arm_front", "none", None, False),
    ("Coracobrachialis", "upper_arm_front", "none", None, False),
    ("Triceps brachii", "upper_arm_back", "none", None, False),
    ("Anconeus", "upper_arm_back", "none", None, False),
    # Forearm and hand
    ("Brachioradialis", "forearm_front", "none", None, False),
    ("Pronator teres", "forearm_front", "none", None, False),
    ("Flexor carpi radialis", "forearm_front", "none", None, False),
    ("Flexor carpi ulnaris", "forearm_front", "none", None, False),
    ("Flexor digitorum superficialis", "forearm_front", "none", None, False),
    ("Extensor carpi radialis longus and brevis", "forearm_back", "none", None, False),
    ("Extensor digitorum", "forearm_back", "none", None, False),
    ("Extensor carpi ulnaris", "forearm_back", "none", None, False),
    ("Supinator", "forearm_back", "none", None, False),
    ("First dorsal interosseous", "forearm_back", "none", None, False),
    # Low back and sacrum
    ("Lumbar paraspinals / erector spinae", "lower_back", "none", None, True),
    ("Multifidus (lumbar)", "lower_back", "none", None, True),
    ("Multifidus (sacral)", "lower_back", "none", None, True),
    ("Iliocostalis lumborum", "lower_back", "none", None, True),
    ("Quadratus lumborum", "lower_back", "none", None, False),
    # Abdomen and front of hip
    ("Rectus abdominis", "abdomen", "none", None, False),
    ("External oblique", "abdomen", "none", None, False),
    ("Iliopsoas", "hip_front", "none", None, False),
    ("Tensor fasciae latae", "hip_front", "none", None, False),
    # Buttock and hip
    ("Gluteus maximus", "buttock", "none", None, False),
    ("Gluteus medius", "buttock", "none", None, False),
    ("Gluteus minimus", "buttock", "none", None, False),
    ("Piriformis", "buttock", "none", None, False),
    # Thigh
    ("Rectus femoris", "thigh_front", "none", None, False),
    ("Vastus lateralis", "thigh_front", "none", None, False),
    ("Vastus medialis", "thigh_front", "none", None, False),
    ("Adductor longus", "thigh_front", "none", None, False),
    ("Adductor magnus", "thigh_front", "none", None, False),
    ("Biceps femoris", "thigh_back", "none", None, False),
    ("Semitendinosus", "thigh_back", "none", None, False),
    ("Semimembranosus", "thigh_back", "none", None, False),
    # Leg
    ("Tibialis anterior", "leg_front", "none", None, False),
    ("Fibularis (peroneus) longus", "leg_front", "none", None, False),
    ("Extensor digitorum longus", "leg_front", "none", None, False),
    ("Gastrocnemius (medial head)", "calf", "none", None, False),
    ("Gastrocnemius (lateral head)", "calf", "none", None, False),
    ("Soleus", "calf", "none", None, False),
    ("Popliteus", "calf", "none", None, False),
    ("Tibialis posterior", "calf", "none", None, False),
]
# (gauge mm, length mm)
NEEDLE_SIZES = [
    ("0.16", 15), ("0.16", 25), ("0.18", 30), ("0.20", 25), ("0.20", 30), ("0.25", 25), ("0.25", 30),
    ("0.25", 40), ("0.25", 50), ("0.30", 40), ("0.30", 50), ("0.30", 60), ("0.30", 75), ("0.30", 100),
    ("0.35", 75),
]
# fmt: on


def ensure_catalogue():
    """Add any catalogue row that is missing (migration 0002 seeds them; a test database emptied with
    TRUNCATE between browser tests needs them back). Returns how many rows were added."""
    from decimal import Decimal

    from .models import Muscle, NeedleSize

    added = 0
    if Muscle.objects.count() < len(MUSCLES):
        for name, body_region, risk_region, advisory, segment_applies in MUSCLES:
            _muscle, created = Muscle.objects.get_or_create(
                name=name,
                defaults={
                    "body_region": body_region,
                    "risk_region": risk_region,
                    "advisory_max_depth_mm": advisory,
                    "advisory_depth_source": DEPTH_SOURCES.get(name, ""),
                    "segment_applies": segment_applies,
                },
            )
            added += created
    if NeedleSize.objects.count() < len(NEEDLE_SIZES):
        for gauge, length in NEEDLE_SIZES:
            added += NeedleSize.objects.get_or_create(gauge_mm=Decimal(gauge), length_mm=length)[1]
    return added
