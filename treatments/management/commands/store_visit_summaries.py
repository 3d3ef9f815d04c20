from django.core.management.base import BaseCommand, CommandError

from treatments.summary import store_missing_visit_summaries


class Command(BaseCommand):
    help = (
        "Render and store the visit summary PDF of every signed session that has none showing its addenda "
        "yet (sessions signed before summaries were stored at signing). Resumable: what is stored is "
        "skipped; "
        "several may run at once (each summary is stored once). Without it, the first download stores each."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="store at most this many, then stop")

    def handle(self, *args, limit=None, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be a positive number of sessions.")
        stored = failed = 0
        for session, error in store_missing_visit_summaries(limit=limit):
            if error is None:
                stored += 1
            else:
                failed += 1
                self.stderr.write(f"session {session.pk}: not stored ({error})")
        self.stdout.write(f"Visit summaries stored: {stored}; failed: {failed}.")
        if failed:
            raise CommandError(f"{failed} visit summaries could not be rendered; see the log.")
