from django.core.management.base import BaseCommand

from clinic.database_roles import as_owner
from reports.models import MuscleDay, SessionSummary
from reports.summaries import record_time_zone_and_rebuild


class Command(BaseCommand):
    help = (
        "Record the current CLINIC_TIME_ZONE for the report summaries and recount them from the needling "
        "tables (after a bulk load with triggers off, or a change of time zone)."
    )

    @as_owner()  # the recount empties the summary tables with TRUNCATE, which only the owner may do
    def handle(self, *args, **options):
        record_time_zone_and_rebuild()
        self.stdout.write(
            f"Report summaries rebuilt: {SessionSummary.objects.count()} sessions, "
            f"{MuscleDay.objects.count()} muscle-day rows."
        )
