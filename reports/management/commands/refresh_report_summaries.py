from django.core.management.base import BaseCommand

from clinic.database_roles import as_owner
from reports.models import MuscleDay, SessionSummary
from reports.summaries import install_and_rebuild


class Command(BaseCommand):
    help = (
        "Recreate the triggers that keep the report summaries for the current CLINIC_TIME_ZONE and recount "
        "them from the needling tables (after a bulk load with triggers off, or a change of time zone)."
    )

    @as_owner()  # it recreates functions and triggers: schema work, the owner role's
    def handle(self, *args, **options):
        install_and_rebuild()
        self.stdout.write(
            f"Report summaries rebuilt: {SessionSummary.objects.count()} sessions, "
            f"{MuscleDay.objects.count()} muscle-day rows."
        )
