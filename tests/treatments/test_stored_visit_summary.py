"""A signed session's visit summary PDF is rendered once (when the signing commits, through the task
runner; or at the first download for a session signed before that, or whose render failed) and stored
with its SHA-256; downloads serve the stored bytes without WeasyPrint, each still audited. An addendum
stores a new version and keeps the old one. A draft's summary is rendered at every download, never
stored."""

import base64
import hashlib
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from pypdf import PdfReader

from audit.models import Action, AuditEvent
from tests.factories import complete_session, muscle, needle
from treatments.models import NeedlingSession, VisitSummary
from treatments.services import add_addendum, add_point, sign_session
from treatments.summary import stored_visit_summary, visit_summary_pdf

pytestmark = pytest.mark.django_db


def text_of(pdf):
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(bytes(pdf))).pages]


@pytest.fixture
def renders(monkeypatch):
    """The number of PDFs WeasyPrint has written since the fixture was set up."""
    from weasyprint import HTML

    count = []
    write_pdf = HTML.write_pdf

    def counted(self, *args, **kwargs):
        count.append(self)
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(HTML, "write_pdf", counted)
    return count


@pytest.fixture
def ready(draft, clinician):
    add_point(
        draft,
        by=clinician,
        muscle=muscle("Gluteus medius"),
        side="L",
        needle_size=needle("0.30", 60),
        depth_mm=45,
        twitch_response="single",
    )
    return complete_session(draft)


@pytest.fixture
def signed(ready, clinician, django_capture_on_commit_callbacks):
    """Signed, with what happens once the signing commits run (the test suite's task runner runs each
    task at once: the summary is rendered and stored)."""
    with django_capture_on_commit_callbacks(execute=True):
        return sign_session(ready, by=clinician)


def download(client, session):
    return client.get(reverse("treatments:pdf", args=[session.pk]))


def test_signing_stores_the_summary_once_the_signing_commits(signed):
    stored = VisitSummary.objects.get(session=signed)
    assert stored.addenda == 0
    assert stored.sha256 == hashlib.sha256(bytes(stored.pdf)).hexdigest()


def test_the_stored_summary_reads_as_a_fresh_render_does(signed):
    stored = VisitSummary.objects.get(session=signed)
    text = text_of(stored.pdf)
    assert text == text_of(visit_summary_pdf(NeedlingSession.objects.get(pk=signed.pk)))
    assert "Gluteus medius" in text[0] and "Signed electronically by" in text[0] and "DRAFT" not in text[0]


def test_downloads_of_a_signed_session_serve_the_stored_bytes_without_weasyprint(
    client, clinician, signed, renders
):
    client.force_login(clinician)
    first, second = download(client, signed), download(client, signed)
    assert renders == []
    stored = VisitSummary.objects.get(session=signed)
    assert first.content == second.content == bytes(stored.pdf)
    assert first["Content-Type"] == "application/pdf"


def test_the_hash_served_is_the_stored_one_and_the_bytes(client, clinician, signed):
    client.force_login(clinician)
    response = download(client, signed)
    digest = hashlib.sha256(response.content).hexdigest()
    assert digest == VisitSummary.objects.get(session=signed).sha256
    assert response["ETag"] == f'"{digest}"'
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"


def test_every_download_of_a_stored_summary_is_still_audited_as_a_print(client, clinician, signed):
    client.force_login(clinician)
    download(client, signed)
    download(client, signed)
    prints = AuditEvent.objects.filter(action=Action.PRINT, object_id=str(signed.pk), actor=clinician)
    assert prints.count() == 2
    assert all(VisitSummary.objects.get().sha256[:16] in event.detail for event in prints)


def test_a_signed_download_queries_the_database_a_fixed_number_of_times(
    client, clinician, signed, django_assert_num_queries
):
    """The staff session, user and second factor (3); the session with its patient (1); the stored
    summary showing every addendum (1); the audit event with its chain lock (4 in the test: the savepoint,
    the lock and last hash in one round trip, the insert, the release)."""
    client.force_login(clinician)
    download(client, signed)
    with django_assert_num_queries(9):
        assert download(client, signed).status_code == 200


def test_a_draft_download_queries_the_database_a_fixed_number_of_times(
    client, clinician, ready, django_assert_max_num_queries
):
    """The signed download's, less the stored summary, plus the session's relations the summary shows,
    read once access is granted (1), and what the summary shows (at most 7 queries: points, screening,
    its rules and acknowledgements when an item is answered yes, consent, side effects, next
    appointment; a draft has no addenda to ask for)."""
    client.force_login(clinician)
    download(client, ready)
    with django_assert_max_num_queries(17):
        assert download(client, ready).status_code == 200


def test_a_session_signed_before_summaries_were_stored_is_stored_at_its_first_download(
    client, clinician, ready, renders
):
    sign_session(ready, by=clinician)  # its commit's work never runs here: nothing stored
    assert not VisitSummary.objects.exists()
    client.force_login(clinician)
    first = download(client, ready)
    assert len(renders) == 1
    second = download(client, ready)
    assert len(renders) == 1
    assert first.content == second.content == bytes(VisitSummary.objects.get(session=ready).pdf)


def test_signing_succeeds_and_the_first_download_renders_when_weasyprint_fails_at_signing(
    client, clinician, ready, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from weasyprint import HTML

    def broken(self, *args, **kwargs):
        raise OSError("Pango could not load a font")

    with monkeypatch.context() as patched:
        patched.setattr(HTML, "write_pdf", broken)
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            signed = sign_session(ready, by=clinician)
    assert NeedlingSession.objects.get(pk=ready.pk).signed_at == signed.signed_at is not None
    assert not VisitSummary.objects.exists()
    assert f"visit summary of session {ready.pk} not rendered" in caplog.text
    client.force_login(clinician)
    response = download(client, ready)
    assert response.status_code == 200
    assert response.content == bytes(VisitSummary.objects.get(session=ready).pdf)


def test_an_addendum_stores_a_new_version_and_keeps_the_old_one(
    client, clinician, signed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_addendum(signed, by=clinician, text="Soreness settled the next day.")
    before, after = VisitSummary.objects.filter(session=signed).order_by("addenda")
    assert (before.addenda, after.addenda) == (0, 1)
    assert "Soreness settled the next day." not in " ".join(text_of(before.pdf))
    assert "Soreness settled the next day." in " ".join(text_of(after.pdf))
    client.force_login(clinician)
    assert download(client, signed).content == bytes(after.pdf)


def test_a_download_after_an_addendum_whose_render_did_not_run_stores_the_new_version(
    client, clinician, signed, renders
):
    add_addendum(signed, by=clinician, text="Called: no bruising now.")  # its commit's work never runs
    client.force_login(clinician)
    text = " ".join(text_of(download(client, signed).content))
    assert "Called: no bruising now." in text and len(renders) == 1
    assert list(VisitSummary.objects.filter(session=signed).values_list("addenda", flat=True)) == [0, 1]


def test_storing_twice_stores_one_summary_and_both_get_its_bytes(signed):
    from treatments.summary import store_visit_summary

    first, second = store_visit_summary(signed), store_visit_summary(signed)
    assert first.pk == second.pk and VisitSummary.objects.count() == 1


def test_a_draft_is_rendered_at_every_download_and_never_stored(client, clinician, ready, renders):
    client.force_login(clinician)
    assert "DRAFT" in " ".join(text_of(download(client, ready).content))
    download(client, ready)
    assert len(renders) == 2 and not VisitSummary.objects.exists()
    with pytest.raises(ValueError, match="draft"):
        stored_visit_summary(ready)


def test_the_backfill_command_stores_what_is_missing_and_nothing_twice(clinician, ready, capsys):
    sign_session(ready, by=clinician)
    call_command("store_visit_summaries")
    assert "Visit summaries stored: 1; failed: 0." in capsys.readouterr().out
    call_command("store_visit_summaries")
    assert "Visit summaries stored: 0; failed: 0." in capsys.readouterr().out
    assert VisitSummary.objects.get().session_id == ready.pk


def test_the_backfill_command_refuses_a_limit_below_one(db):
    with pytest.raises(CommandError, match="positive"):
        call_command("store_visit_summaries", "--limit", "0")


def test_a_changed_draft_shows_its_new_content_at_the_next_download(client, clinician, ready, renders):
    """What clinic.pdf keeps across downloads (parsed stylesheets, the font configuration) is the same for
    every summary: a draft changed between two downloads is rendered again and shows its change, in the
    text and in the chart."""
    from treatments.summary import visit_summary_context

    client.force_login(clinician)
    before = " ".join(text_of(download(client, ready).content))
    chart_before = visit_summary_context(ready)["body_chart_base64"]
    add_point(ready, by=clinician, muscle=muscle("Soleus"), side="R", needle_size=needle("0.25", 30),
              depth_mm=15)  # fmt: skip
    NeedlingSession.objects.filter(pk=ready.pk).update(impression="Trigger points in the right trapezius")
    after = " ".join(text_of(download(client, ready).content))
    assert "Soleus" not in before and "Soleus" in after
    assert "Trigger points in the right trapezius" in after and "DRAFT" in after
    assert visit_summary_context(ready)["body_chart_base64"] != chart_before
    assert len(renders) == 2
