from decimal import Decimal

from django.db import migrations

from treatments.catalogue import MUSCLES, NEEDLE_SIZES


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
