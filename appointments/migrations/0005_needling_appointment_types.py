from django.db import migrations, models

# DESIGN.md rule 4 at the front desk: an appointment type says whether the visit includes needling, and a
# needling type is booked and offered only with an authorised physiotherapist (appointments/services.py).
# Every type so far was an IMS visit (the seeded "IMS initial assessment" and "IMS follow-up"), so each
# existing type is marked as needling; the administrator unticks any that is not.


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0004_free_text_length_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointmenttype",
            name="needling",
            field=models.BooleanField(
                default=True,
                help_text="The visit includes IMS / dry needling: only physiotherapists with a current needling authorisation are booked or offered for it.",
            ),
        ),
    ]
