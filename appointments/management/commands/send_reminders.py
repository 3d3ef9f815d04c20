from datetime import date

from django.core.management.base import BaseCommand, CommandError

from appointments.reminders import send_day_before_reminders


class Command(BaseCommand):
    help = (
        "E-mail tomorrow's patients a reminder with an .ics file. Safe to run twice: nobody is reminded "
        "twice about one appointment. Schedule it once a day (cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", help="Remind about this day (YYYY-MM-DD) instead of tomorrow.")

    def handle(self, *args, day=None, **options):
        try:
            target = date.fromisoformat(day) if day else None
        except ValueError as error:
            raise CommandError(f"--day must be YYYY-MM-DD, not {day!r}.") from error
        sent, skipped = send_day_before_reminders(target)
        self.stdout.write(f"Sent {sent} reminder(s); skipped {skipped} (already sent or no e-mail address).")
