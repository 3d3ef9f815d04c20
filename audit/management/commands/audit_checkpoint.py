from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit import keys
from audit.checkpoints import Checkpoint, append_checkpoint, read_checkpoints
from audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint of the audit chain's head (count, last id, last hash, time) to "
        "AUDIT_CHECKPOINT_DIR, after checking the rows written since the last checkpoint. Run it from "
        'cron (README "Deploying"); exits 1, writing nothing, when the chain or the checkpoints do not '
        "hold."
    )

    def handle(self, *args, **options):
        directory = settings.AUDIT_CHECKPOINT_DIR
        checkpoints, problems = read_checkpoints(directory)
        if problems:
            raise CommandError("\n".join(f"Checkpoint {problem}" for problem in problems), returncode=1)
        # Only the rows since the furthest checkpoint need checking: that one vouched for those before.
        latest = max(checkpoints, key=lambda c: (c.last_id or 0, c.at), default=None)
        check = verify_chain(start=latest)
        if check.problems:
            raise CommandError("\n".join(check.problems), returncode=1)
        checkpoint = Checkpoint(
            at=timezone.now(),
            count=check.events,
            last_id=check.head_id,
            last_hash=check.head_hash,
            key_id=keys.current_key_id(),
        )
        path = append_checkpoint(directory, checkpoint)
        head = f"head event {checkpoint.last_id}" if checkpoint.last_id is not None else "no events yet"
        self.stdout.write(f"Checkpoint written to {path}: {checkpoint.count} events, {head}.")
