from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import read_checkpoints
from audit.services import verify_chain


def instant(text):
    """An ISO 8601 date and time with its offset, for --checkpoints-until."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("give the offset too, e.g. 2026-11-25T03:00:00+00:00")
    return moment


class Command(BaseCommand):
    help = (
        "Check the audit trail: every row's keyed hash and link, and that the chain still reaches every "
        "checkpoint in AUDIT_CHECKPOINT_DIR. Names each event or checkpoint that does not hold and exits 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints-until",
            type=instant,
            metavar="DATETIME",
            help=(
                "Check only the checkpoints written up to this instant (ISO 8601 with offset): for a "
                "database restored from a backup taken then, which lacks the events written since."
            ),
        )
        parser.add_argument(
            "--require-checkpoints",
            action="store_true",
            help=(
                "Fail when the trail has events but AUDIT_CHECKPOINT_DIR holds no checkpoint (a folder "
                "not mounted, or a checkpoint job that never ran): for the scheduled check in production."
            ),
        )

    def handle(self, *args, checkpoints_until=None, require_checkpoints=False, **options):
        directory = settings.AUDIT_CHECKPOINT_DIR
        checkpoints, problems = read_checkpoints(directory)
        if checkpoints_until is not None:
            checkpoints = [c for c in checkpoints if c.at <= checkpoints_until]
        check = verify_chain(checkpoints=checkpoints)
        problems = check.problems + [f"Checkpoint {problem}" for problem in problems]
        if require_checkpoints and check.events and not checkpoints:
            problems.append(
                f"No checkpoints in {directory}, and the trail holds {check.events} events: is the folder "
                "mounted, and does manage.py audit_checkpoint run?"
            )
        if problems:
            raise CommandError("\n".join(problems), returncode=1)
        legacy = f" ({check.legacy} of them from before keyed hashing)" if check.legacy else ""
        self.stdout.write(f"Audit chain intact: {check.events} events verified{legacy}.")
        if check.checkpoints_reached:
            latest = max(check.checkpoints_reached, key=lambda c: (c.last_id, c.at))
            self.stdout.write(
                f"It reaches all {len(check.checkpoints_reached)} checkpoint(s) in {directory}; the latest "
                f"head is event {latest.last_id}, {latest.describe()}."
            )
        elif checkpoints:
            self.stdout.write(f"Checkpoints in {directory} record an empty chain only.")
        else:
            self.stdout.write(
                f"No checkpoints in {directory}: events cut from the end or an emptied table would go "
                'unnoticed. Schedule manage.py audit_checkpoint (README "Deploying").'
            )
