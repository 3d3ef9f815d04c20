"""Background exports: a file too large to produce during a request is prepared by a task on the task runner
and kept in the database for the person who asked, until it expires (docs/architecture.md "Background
tasks").

A view calls request_export() with the function that writes the file (a dotted path, so that outbox names no
higher app) and its keyword arguments. The task, run_export(), claims the export under a row lock (queued ->
running, committed: a second task or worker finds it running and does nothing), calls the function with a
ChunkWriter, which stores the file in ExportChunk rows of CHUNK_SIZE bytes as it is written (the worker
never holds the whole file; each chunk commits on its own), and marks it done with its size and SHA-256.
A function returns a short summary of what it wrote ("Patient 120, Encounter 3400"), which the owner's list
and the audit trail show.

Only the person who asked downloads the file, and only while their role is still one the export was
made for: an export is a disclosure to that person, audited as theirs (request, preparation, each
download). The clock's daily job deletes the files of expired exports (EXPORT_KEEP_DAYS after they were
ready); the rows stay, saying who asked for what. The minute sweep fails an export whose worker stopped
(no chunk written for EXPORT_STALE)."""

import hashlib
import io
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.models import Action
from audit.services import audited_transaction, record

from .models import BackgroundExport, ExportChunk, ExportStatus

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
# A running export that wrote nothing for this long was left by a worker that stopped.
EXPORT_STALE = timedelta(minutes=15)
# A queued export with no task id this long after it was asked for lost its task before it was enqueued.
QUEUED_LOST = timedelta(minutes=5)


class ChunkWriter(io.RawIOBase):
    """A write-only file whose bytes go to ExportChunk rows of CHUNK_SIZE, hashed as they pass. It cannot
    seek (zipfile then writes each entry's sizes after its data)."""

    def __init__(self, export, chunk_size=None):
        self.export, self.chunk_size = export, chunk_size or CHUNK_SIZE
        self.buffer, self.position, self.number = bytearray(), 0, 0
        self.digest = hashlib.sha256()

    def writable(self):
        return True

    def write(self, data):
        self.buffer += data
        self.position += len(data)
        self.digest.update(data)
        while len(self.buffer) >= self.chunk_size:
            self._store(bytes(self.buffer[: self.chunk_size]))
            del self.buffer[: self.chunk_size]
        return len(data)

    def tell(self):
        return self.position

    def _store(self, data):
        ExportChunk.objects.create(export=self.export, number=self.number, data=data)
        self.number += 1
        BackgroundExport.objects.filter(pk=self.export.pk).update(heartbeat_at=timezone.now())

    def finish(self):
        """Store what is left; (size, SHA-256 hex)."""
        if self.buffer or self.number == 0:
            self._store(bytes(self.buffer))
            self.buffer.clear()
        return self.position, self.digest.hexdigest()


def request_export(
    *, by, kind, description, function, filename, content_type, roles, parameters=None, request=None
):
    """Queue an export for `by`: `function(out, by=by, **parameters)` will write the file into `out` and
    return a summary of it. Audited; the task is enqueued when the transaction commits."""
    with audited_transaction():
        export = BackgroundExport.objects.create(
            requested_by=by,
            kind=kind,
            description=description,
            function=function,
            parameters=parameters or {},
            roles=[str(role) for role in roles],
            filename=filename,
            content_type=content_type,
        )
        record(
            Action.CREATE,
            request=request,
            user=by,
            obj=export,
            detail=f"background export #{export.pk} requested: {description}",
        )
        pk = export.pk
        transaction.on_commit(lambda: enqueue(pk))
    return export


def enqueue(export_id):
    from .tasks import run_background_export

    result = run_background_export.enqueue(export_id)
    BackgroundExport.objects.filter(pk=export_id, task_id="").update(task_id=str(result.id))
    return result


def run_export(export_id):
    """Prepare export `export_id` once: nothing unless it is queued. Returns the status it leaves."""
    now = timezone.now()
    with transaction.atomic():
        export = BackgroundExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None:
            return "missing"
        if export.status != ExportStatus.QUEUED:
            return export.status
        export.status = ExportStatus.RUNNING
        export.started_at = export.heartbeat_at = now
        export.save(update_fields=["status", "started_at", "heartbeat_at"])
    writer = ChunkWriter(export)
    try:
        summary = import_string(export.function)(writer, by=export.requested_by, **export.parameters)
        size, sha256 = writer.finish()
    except Exception as error:
        log.exception("background export %s failed", export.pk)
        _failed(export, f"{type(error).__name__}: {error}"[:2000])
        return ExportStatus.FAILED
    finished = timezone.now()
    with audited_transaction():
        done = BackgroundExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE,
            summary=str(summary or "")[:5000],
            size=size,
            sha256=sha256,
            finished_at=finished,
            expires_at=finished + timedelta(days=settings.EXPORT_KEEP_DAYS),
        )
        if done:
            record(
                Action.UPDATE,
                user=export.requested_by,
                obj=export,
                detail=f"background export #{export.pk} prepared: {export.description}; {summary}; "
                f"{size} bytes, SHA-256 {sha256}",
            )
    if not done:  # the sweep gave up on it meanwhile: keep no orphan file
        ExportChunk.objects.filter(export_id=export.pk).delete()
        return ExportStatus.FAILED
    return ExportStatus.DONE


def _failed(export, reason):
    """Fail `export` (queued or running) with `reason`, deleting what it wrote; True if this call did."""
    ExportChunk.objects.filter(export_id=export.pk).delete()
    with audited_transaction():
        failed = BackgroundExport.objects.filter(
            pk=export.pk, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        ).update(status=ExportStatus.FAILED, error=reason, finished_at=timezone.now())
        if failed:
            record(
                Action.UPDATE,
                user=export.requested_by,
                obj=export,
                detail=f"background export #{export.pk} failed: {export.description}; {reason}",
            )
    return bool(failed)


def chunks_of(export):
    """The file's bytes, a chunk at a time: one query per chunk (no server-side cursor, no transaction held
    open while a slow client reads, which PgBouncer in transaction mode would not allow)."""
    numbers = list(ExportChunk.objects.filter(export=export).order_by("number").values_list("pk", flat=True))
    for pk in numbers:
        yield bytes(ExportChunk.objects.values_list("data", flat=True).get(pk=pk))


def may_download(export, user):
    return export.requested_by_id == user.pk and user.role in export.roles


def record_download(export, *, request):
    record(
        Action.EXPORT,
        request=request,
        obj=export,
        detail=f"background export #{export.pk} downloaded: {export.description}; {export.summary}; "
        f"{export.filename}, {export.size} bytes, SHA-256 {export.sha256}",
    )


def expire_exports(now=None):
    """Delete the files of exports past their expiry (the rows stay, marked expired); audited. Returns how
    many expired. Run once a day by the clock (settings.SCHEDULED_TASKS)."""
    now = now or timezone.now()
    expired = 0
    for export in BackgroundExport.objects.filter(status=ExportStatus.DONE, expires_at__lte=now):
        with audited_transaction():
            if BackgroundExport.objects.filter(pk=export.pk, status=ExportStatus.DONE).update(
                status=ExportStatus.EXPIRED
            ):
                ExportChunk.objects.filter(export_id=export.pk).delete()
                record(
                    Action.UPDATE,
                    user=export.requested_by,
                    obj=export,
                    detail=f"background export #{export.pk} expired, its file deleted: {export.description}",
                )
                expired += 1
    return expired


def sweep_exports(now=None):
    """Put right what a stopped process left: fail the exports whose worker stopped (running, no chunk
    written for EXPORT_STALE), and enqueue again the queued ones whose task was never enqueued (a process
    stopped between the commit and on_commit: no task id after QUEUED_LOST). Returns (failed, requeued)."""
    now = now or timezone.now()
    stale = BackgroundExport.objects.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=now - EXPORT_STALE)
    failed = sum(
        _failed(export, "the worker stopped while preparing it; ask for it again") for export in stale
    )
    lost = list(
        BackgroundExport.objects.filter(
            status=ExportStatus.QUEUED, task_id="", created_at__lt=now - QUEUED_LOST
        ).values_list("pk", flat=True)[:100]
    )
    for pk in lost:
        enqueue(pk)
    return failed, len(lost)
