"""Checkpoints of the audit chain's head, kept outside the database (settings.AUDIT_CHECKPOINT_DIR).

`manage.py audit_checkpoint` appends one signed line per run (by cron) to a file per month,
`audit-checkpoints-YYYY-MM.jsonl`; `manage.py verify_audit` reads them all and checks that the chain in
the database still reaches each one: the event a checkpoint names as the head is still there with the
same hash, and as many events lead up to it as the checkpoint counted. That is what catches the cuts a
chain alone cannot show: the last rows deleted, or the whole table emptied (docs/architecture.md
"Audit anchoring").

A line is JSON: {"at", "count", "last_id", "last_hash", "key_id", "signature"}, the signature an
HMAC-SHA256 of the other fields under the audit key `key_id`, so a line cannot be forged or edited by
someone who can write the folder but does not hold the key. Deleting lines or files cannot be detected
from here: that is why the folder belongs on other storage in production.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import keys

FILE_GLOB = "audit-checkpoints-*.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    at: datetime
    count: int
    last_id: int | None
    last_hash: str
    key_id: int
    where: str = ""  # "<file> line <n>", for messages

    def describe(self):
        when = self.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"checkpoint of {when} ({self.where})" if self.where else f"checkpoint of {when}"

    def fields(self):
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "count": self.count,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "key_id": self.key_id,
        }


def _signed_content(fields):
    return "audit checkpoint\n" + json.dumps(fields, sort_keys=True, separators=(",", ":"))


def line_for(checkpoint):
    """The JSON line that records `checkpoint`, signed under its key."""
    fields = checkpoint.fields()
    fields["signature"] = keys.sign(checkpoint.key_id, _signed_content(checkpoint.fields()))
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def parse_line(text, where=""):
    """The Checkpoint a line records. Refuses (ValueError, with the reason) a line that is not a
    checkpoint, whose key this server lacks, or whose signature does not match its content."""
    try:
        fields = json.loads(text)
        signature = fields.pop("signature")
        checkpoint = Checkpoint(
            at=datetime.fromisoformat(fields["at"]),
            count=int(fields["count"]),
            last_id=None if fields["last_id"] is None else int(fields["last_id"]),
            last_hash=str(fields["last_hash"]),
            key_id=int(fields["key_id"]),
            where=where,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{where}: not a checkpoint line ({error})") from None
    if checkpoint.at.tzinfo is None or set(fields) != set(checkpoint.fields()):
        raise ValueError(f"{where}: not a checkpoint line (unexpected fields)")
    try:
        expected = keys.sign(checkpoint.key_id, _signed_content(fields))
    except keys.UnknownKey as error:
        raise ValueError(f"{where}: signed with {error}") from None
    if not isinstance(signature, str) or not keys.same(expected, signature):
        raise ValueError(f"{where}: its signature does not match its content (the line was edited or forged)")
    return checkpoint


def read_checkpoints(directory):
    """(checkpoints, problems): every checkpoint in the folder's files, oldest file first, and a message
    for each line that is not a valid, signed checkpoint. A missing folder holds no checkpoints."""
    directory = Path(directory)
    checkpoints, problems = [], []
    if not directory.is_dir():
        return checkpoints, problems
    for path in sorted(directory.glob(FILE_GLOB)):
        with path.open(encoding="utf-8", errors="replace") as file:
            for number, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                try:
                    checkpoints.append(parse_line(text, where=f"{path.name} line {number}"))
                except ValueError as error:
                    problems.append(str(error))
    return checkpoints, problems


def append_checkpoint(directory, checkpoint):
    """Append `checkpoint` as a signed line to this month's file in `directory` (created if missing),
    flushed to disk before returning; the file's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-checkpoints-{checkpoint.at.astimezone(UTC):%Y-%m}.jsonl"
    created = not path.exists()
    with path.open("a", encoding="utf-8") as file:
        file.write(line_for(checkpoint) + "\n")
        file.flush()
        os.fsync(file.fileno())
    if created:
        # The new file's name must survive a crash too.
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return path
