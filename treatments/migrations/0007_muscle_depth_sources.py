import django.core.validators
from django.db import migrations, models

# Never invent a depth (issue 11): every advisory maximum depth of the muscle catalogue now cites its
# published source, and the database refuses a figure without one. The seeded figures are corrected:
# rhomboid major keeps 19 mm with its source (an ultrasound study of rhomboid major); rhomboid minor,
# which was given the same 19 mm with no study of its own, loses it and shows the lung-field prompt
# instead. A figure the clinic entered itself is kept and marked for the administrator to cite, rather
# than dropped: the admin shows it (list of muscles, "source of the advisory depth").
RHOMBOID_MAJOR_SOURCE = (
    "Valera-Calero JA et al., ultrasound of rhomboid major and pleura depth in 59 healthy adults: "
    "a maximum of 19 mm to reach the deep limit of rhomboid major (Authorea preprint, "
    "authorea.com/users/319890)"
)
UNCITED = "Entered by the clinic before sources were recorded: cite the published source, or clear the depth"


def cite_depths(apps, schema_editor):
    Muscle = apps.get_model("treatments", "Muscle")
    Muscle.objects.filter(name="Rhomboid major", advisory_max_depth_mm=19).update(
        advisory_depth_source=RHOMBOID_MAJOR_SOURCE
    )
    Muscle.objects.filter(name="Rhomboid minor", advisory_max_depth_mm=19).update(advisory_max_depth_mm=None)
    Muscle.objects.filter(advisory_max_depth_mm__isnull=False, advisory_depth_source="").update(
        advisory_depth_source=UNCITED
    )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0006_point_consent_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="muscle",
            name="advisory_depth_source",
            field=models.CharField(
                blank=True,
                help_text="The published source of the advisory maximum depth: authors, study, where to find it.",
                max_length=300,
                verbose_name="source of the advisory depth",
            ),
        ),
        migrations.AlterField(
            model_name="muscle",
            name="advisory_max_depth_mm",
            field=models.DecimalField(
                blank=True,
                decimal_places=1,
                help_text="Only where a published source gives a figure for this muscle (cite it below). A deeper point needs the clinician's explicit confirmation (e.g. rhomboid major 19 mm).",
                max_digits=5,
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="advisory maximum depth (mm)",
            ),
        ),
        migrations.RunPython(cite_depths, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="muscle",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("advisory_max_depth_mm__isnull", True),
                    models.Q(("advisory_depth_source", ""), _negated=True),
                    _connector="OR",
                ),
                name="muscle_advisory_depth_cited",
                violation_error_message="An advisory maximum depth needs its published source.",
            ),
        ),
    ]
