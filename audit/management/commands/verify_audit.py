from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import first_broken_event


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; name the first broken row and exit 1 if any."

    def handle(self, *args, **options):
        broken = first_broken_event()
        if broken is not None:
            event, reason = broken
            raise CommandError(f"Audit chain broken at event {event.pk} ({event}): {reason}.", returncode=1)
        self.stdout.write(f"Audit chain intact: {AuditEvent.objects.count()} events verified.")
