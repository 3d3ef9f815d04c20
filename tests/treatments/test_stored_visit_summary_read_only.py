"""A stored visit summary is never changed or deleted, through the model, the admin or raw SQL; and the
database stores only what the row claims: a signed session's summary, whose hash is its bytes', showing
every addendum written so far (treatments migration 0014)."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from tests.factories import complete_session
from treatments.models import VisitSummary
from treatments.services import add_addendum, sign_session
from treatments.summary import store_visit_summary

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def stored(draft, clinician):
    complete_session(draft)
    sign_session(draft, by=clinician)
    return store_visit_summary(draft)


def insert(session_id, pdf=b"%PDF-1.7 x", sha256=None, addenda=0):
    raw(
        "INSERT INTO treatments_visitsummary (session_id, addenda, pdf, sha256, rendered_at) "
        "VALUES (%s, %s, %s, %s, now())",
        [session_id, addenda, pdf, sha256 or hashlib.sha256(pdf).hexdigest()],
    )


def test_the_model_refuses_to_change_or_delete_it(stored):
    original = bytes(stored.pdf)
    stored.pdf = b"%PDF-1.7 forged"
    with pytest.raises(ValidationError, match="never changed"):
        stored.save()
    with pytest.raises(PermissionDenied):
        stored.delete()
    with pytest.raises(DatabaseError, match="never changed or deleted"), transaction.atomic():
        VisitSummary.objects.filter(pk=stored.pk).update(sha256="0" * 64)
    with pytest.raises(DatabaseError, match="never changed or deleted"), transaction.atomic():
        VisitSummary.objects.filter(pk=stored.pk).delete()
    assert bytes(VisitSummary.objects.get(pk=stored.pk).pdf) == original


def test_raw_sql_cannot_change_or_delete_it(stored):
    original = bytes(stored.pdf)
    with pytest.raises(DatabaseError, match="never changed or deleted"):
        raw("UPDATE treatments_visitsummary SET pdf = %s WHERE id = %s", [b"%PDF forged", stored.pk])
    with pytest.raises(DatabaseError, match="never changed or deleted"):
        raw("DELETE FROM treatments_visitsummary WHERE id = %s", [stored.pk])
    assert bytes(VisitSummary.objects.get(pk=stored.pk).pdf) == original


def test_the_database_stores_no_summary_of_a_draft(draft):
    with pytest.raises(DatabaseError, match="not signed"):
        insert(draft.pk)
    assert not VisitSummary.objects.exists()


def test_the_database_refuses_a_hash_that_is_not_the_bytes(stored, clinician):
    add_addendum(stored.session, by=clinician, text="Follow-up call: fine.")
    with pytest.raises(DatabaseError, match="sha256 is not the hash"):
        insert(stored.session_id, sha256="0" * 64, addenda=1)


def test_the_database_refuses_a_summary_that_does_not_show_every_addendum(stored, clinician):
    add_addendum(stored.session, by=clinician, text="Follow-up call: fine.")
    with pytest.raises(DatabaseError, match="addenda"):
        insert(stored.session_id, addenda=2)
    with pytest.raises(DatabaseError):  # the version without the addendum is stored already
        insert(stored.session_id, addenda=0)


def test_the_admin_reads_it_and_changes_or_deletes_nothing(client_for, stored):
    client = client_for("administrator")
    page = client.get(f"/admin/treatments/visitsummary/{stored.pk}/change/")
    assert page.status_code == 200 and stored.sha256 in page.content.decode()
    change = f"/admin/treatments/visitsummary/{stored.pk}/change/"
    assert client.post(change, {}).status_code == 403
    assert client.post(change.replace("change", "delete"), {"post": "yes"}).status_code == 403
    assert client.get("/admin/treatments/visitsummary/add/").status_code == 403
    assert VisitSummary.objects.get(pk=stored.pk).sha256 == stored.sha256
