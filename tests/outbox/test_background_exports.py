"""Background exports (outbox/exports.py): a file prepared by the task runner, kept in PostgreSQL in chunks,
downloaded only by the person who asked (with a role it was made for), audited when asked for, prepared and
downloaded, failed with its reason, deleted when it expires, and never prepared twice."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from audit.models import Action, AuditEvent
from outbox import exports
from outbox.exports import enqueue, expire_exports, request_export, run_export, sweep_exports
from outbox.models import BackgroundExport, ExportChunk, ExportStatus
from tests.conftest import Client
from tests.factories import AdminFactory, FrontDeskFactory, ManagerFactory, PhysioFactory

from .conftest import run_worker
from .writers import numbered_lines

pytestmark = pytest.mark.usefixtures("database_tasks")


def ask(user, count=500, function="tests.outbox.writers.write_lines", **parameters):
    return request_export(
        by=user,
        kind="tests.lines",
        description=f"{count} numbered lines",
        function=function,
        parameters={"count": count, **parameters} if "lines" in function else parameters,
        filename="lines.txt",
        content_type="text/plain",
        roles=[Role.MANAGER],
    )


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 1000)


def test_the_worker_prepares_the_file_in_chunks_and_its_owner_downloads_it(small_chunks):
    manager = ManagerFactory(full_name="Mina Park")
    export = ask(manager)
    assert export.status == ExportStatus.QUEUED
    assert DBTaskResult.objects.get().task_path == "outbox.tasks.run_background_export"
    run_worker()
    export.refresh_from_db()
    content = numbered_lines(500)
    assert export.status == ExportStatus.DONE and export.summary == "500 lines for Mina Park"
    assert export.size == len(content) and export.sha256 == hashlib.sha256(content).hexdigest()
    assert ExportChunk.objects.filter(export=export).count() == 6  # 6,000 bytes in chunks of 1,000
    assert export.expires_at == export.finished_at + timedelta(days=7)

    response = client_of(manager).get(f"/outbox/exports/{export.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == 'attachment; filename="lines.txt"'
    assert response["Content-Length"] == str(len(content))
    events = AuditEvent.objects.filter(object_type="outbox.backgroundexport", object_id=str(export.pk))
    assert list(events.order_by("id").values_list("action", "actor")) == [
        (Action.CREATE, manager.pk),
        (Action.UPDATE, manager.pk),
        (Action.EXPORT, manager.pk),
    ]
    download = events.get(action=Action.EXPORT)
    assert "500 numbered lines" in download.detail and export.sha256 in download.detail
    assert "500 lines for Mina Park" in download.detail


@pytest.mark.parametrize(
    "who", ["another manager", "an administrator", "a physiotherapist", "the front desk"]
)
def test_nobody_but_the_owner_downloads_it(who):
    export = ask(ManagerFactory())
    run_worker()
    user = {
        "another manager": ManagerFactory,
        "an administrator": AdminFactory,
        "a physiotherapist": PhysioFactory,
        "the front desk": FrontDeskFactory,
    }[who]()
    client = client_of(user)
    for method in (client.get, client.post):
        assert method(f"/outbox/exports/{export.pk}/").status_code == 403
    refused = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor=user)
    assert refused.count() == 2
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_owner_may_not_post_and_an_owner_whose_role_changed_may_not_download():
    manager = ManagerFactory()
    export = ask(manager)
    run_worker()
    client = client_of(manager)
    assert client.post(f"/outbox/exports/{export.pk}/").status_code == 405
    manager.role = Role.ADMIN  # still a role that may use the page, but not one the export was made for
    manager.save()
    assert client.get(f"/outbox/exports/{export.pk}/").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_an_export_not_ready_has_no_file_to_download():
    manager = ManagerFactory()
    export = ask(manager)
    response = client_of(manager).get(f"/outbox/exports/{export.pk}/", follow=True)
    assert "is queued: no file to download" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_failed_export_says_why_keeps_no_file_and_is_audited(small_chunks):
    manager = ManagerFactory()
    export = ask(manager, function="tests.outbox.writers.write_then_fail")
    run_worker()
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and "the disk of the database is full" in export.error
    assert not ExportChunk.objects.exists() and export.size is None
    assert AuditEvent.objects.filter(action=Action.UPDATE, detail__contains="failed", actor=manager).exists()
    page = client_of(manager).get("/outbox/exports/").content.decode()
    assert "Failed" in page and "the disk of the database is full" in page


def test_a_second_task_for_the_same_export_prepares_nothing():
    export = ask(ManagerFactory())
    enqueue(export.pk)
    enqueue(export.pk)
    run_worker()
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 3
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["done", "done", "done"]
    assert AuditEvent.objects.filter(action=Action.UPDATE, detail__contains="prepared").count() == 1
    assert run_export(export.pk) == ExportStatus.DONE
    assert ExportChunk.objects.count() == 1


@pytest.mark.clock
def test_the_daily_job_deletes_expired_files_and_keeps_the_rows(settings):
    settings.EXPORT_KEEP_DAYS = 2
    manager = ManagerFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        export = ask(manager)
        run_worker()
        export.refresh_from_db()
        assert export.expires_at == start + timedelta(days=2)
        clock.move_to(start + timedelta(days=2) - timedelta(seconds=1))
        assert expire_exports() == 0
        assert client_of(manager).get(f"/outbox/exports/{export.pk}/").status_code == 200
        clock.move_to(start + timedelta(days=2))
        late = client_of(manager).get(f"/outbox/exports/{export.pk}/", follow=True)
        assert "is expired: no file to download" in late.content.decode()  # before the daily job, too
        clock.move_to(start + timedelta(days=2))
        assert expire_exports() == 1
        assert expire_exports() == 0
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not ExportChunk.objects.exists()
    assert AuditEvent.objects.filter(action=Action.UPDATE, detail__contains="expired").count() == 1
    response = client_of(manager).get(f"/outbox/exports/{export.pk}/", follow=True)
    assert "is expired: no file to download" in response.content.decode()


def test_the_daily_job_is_scheduled(settings):
    assert settings.SCHEDULED_TASKS["expire_exports"] == {
        "task": "outbox.tasks.expire_exports",
        "at": settings.EXPORTS_EXPIRE_AT,
    }


@pytest.mark.clock
def test_the_sweep_fails_an_export_whose_worker_stopped():
    export = ask(ManagerFactory())
    now = timezone.now()
    BackgroundExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    ExportChunk.objects.create(export=export, number=0, data=b"half")
    assert sweep_exports(now + timedelta(minutes=14)) == (0, 0)
    assert sweep_exports(now + timedelta(minutes=16)) == (1, 0)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and "worker stopped" in export.error
    assert not ExportChunk.objects.exists()
    assert run_export(export.pk) == ExportStatus.FAILED  # its task, if it ever runs, does nothing


def test_the_list_shows_only_ones_own_exports_in_constant_queries(django_assert_max_num_queries):
    manager, other = ManagerFactory(), ManagerFactory()
    mine = [ask(manager, count=n + 1) for n in range(3)]
    ask(other, count=77)
    run_worker()
    client = client_of(manager)
    client.get("/outbox/exports/")
    with django_assert_max_num_queries(12):
        page = client.get("/outbox/exports/").content.decode()
    for export in mine:
        assert f"/outbox/exports/{export.pk}/" in page
    assert "77 numbered lines" not in page
    for n in range(20):
        ask(manager, count=n + 10)
    run_worker()
    with django_assert_max_num_queries(12):
        assert client.get("/outbox/exports/").status_code == 200


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK])
def test_roles_that_export_nothing_have_no_exports_page(client_for, role):
    assert client_for(role).get("/outbox/exports/").status_code == 403


@pytest.mark.clock
def test_the_sweep_enqueues_an_export_whose_task_was_lost():
    manager = ManagerFactory()
    export = ask(manager)
    # as if the process had stopped between the commit and on_commit: no task for it
    DBTaskResult.objects.all().delete()
    BackgroundExport.objects.filter(pk=export.pk).update(task_id="")
    now = timezone.now()
    assert sweep_exports(now + timedelta(minutes=4)) == (0, 0)
    assert sweep_exports(now + timedelta(minutes=6)) == (0, 1)
    run_worker()
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.task_id
    assert sweep_exports(now + timedelta(minutes=7)) == (0, 0)
