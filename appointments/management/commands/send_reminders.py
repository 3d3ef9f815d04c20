from datetime import date

from django.core.management.base import BaseCommand, CommandError

from appointments.reminders import send_day_before_reminders


class Command(BaseCommand):
    help = (
        "Queue tomorrow's patients a reminder e-mail with an .ics file, which the worker (run_worker) sends. "
        "Safe to run twice: nobody is reminded twice about one appointment. The worker's clock runs it "
        "every day at REMINDERS_AT; a cron line calling it works as well."
    )

    def add_arguments(self, parser):
        parser.add_argument("--day", help="Remind about this day (YYYY-MM-DD) instead of tomorrow.")

    def handle(self, *args, day=None, **options):
        try:
            target = date.fromisoformat(day) if day else None
        except ValueError as error:
            raise CommandError(f"--day must be YYYY-MM-DD, not {day!r}.") from error
        sent, skipped = send_day_before_reminders(target)
        self.stdout.write(
            f"Queued {sent} reminder(s) for the worker to send; skipped {skipped} (already sent or no e-mail "
            "address)."
        )
