from decimal import Decimal

from django.db import migrations

# The catalogue as it shipped, frozen here: replaying history seeds what this migration seeded on its
# day, whatever treatments/catalogue.py (which tests and ensure_catalogue() use) holds later.
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
    ("Rhomboid minor", "upper_back", "mid_back", 19, False),
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


def seed_catalogue(apps, schema_editor):
    Muscle = apps.get_model("treatments", "Muscle")
    NeedleSize = apps.get_model("treatments", "NeedleSize")
    for name, body_region, risk_region, advisory, segment_applies in MUSCLES:
        Muscle.objects.get_or_create(
            name=name,
            defaults={
                "body_region": body_region,
                "risk_region": risk_region,
                "advisory_max_depth_mm": advisory,
                "segment_applies": segment_applies,
            },
        )
    for gauge, length in NEEDLE_SIZES:
        NeedleSize.objects.get_or_create(gauge_mm=Decimal(gauge), length_mm=length)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(seed_catalogue, migrations.RunPython.noop)]
