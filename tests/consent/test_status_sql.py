"""consent_status() reads its rows with one fixed statement (consent.selectors.CONSENT_STATUS_SQL, issue 17).
These tests hold it to the ORM query it replaced, kept here only: the same rows, in the same order per
record, and the same statuses, over records withdrawn, declined, several per patient, versions requiring
re-consent published later, the same day or effective in the future, drafts, and patients with nothing;
at several instants. The behaviour itself is tested in test_allowed_regions.py, test_region_state_colours.py
and tests/treatments/test_needle_point_consent.py (which holds the words to the database's decision)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from consent import selectors
from consent.models import WITHDRAWAL_FIELDS, ConsentForm, ConsentRecord, Region, RiskDecision
from consent.selectors import _with_general_first
from tests.factories import SIGNATURE, ConsentFormFactory, PatientFactory, PhysioFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def _orm_rows(ids, at):
    """The ORM query consent_status() ran before issue 17, word for word."""
    superseding = ConsentForm.objects.filter(
        Q(effective_date__gt=OuterRef("record__form__effective_date"))
        | Q(
            effective_date=OuterRef("record__form__effective_date"),
            published_at__gt=OuterRef("record__form__published_at"),
        ),
        requires_reconsent=True,
        published_at__lte=at,
        effective_date__lte=timezone.localdate(at),
    ).order_by("-effective_date", "-published_at", "-id")
    return list(
        RiskDecision.objects.filter(record__patient_id__in=ids, record__signed_at__lte=at)
        .annotate(reconsent_version=Subquery(superseding.values("version")[:1]))
        .order_by("record__patient_id", "-record__signed_at", "-record_id")
        .values_list(
            "record_id",
            "record__patient_id",
            "record__signed_at",
            "record__withdrawn_at",
            "record__form__version",
            "reconsent_version",
            "risk_item__region",
            "accepted",
        )
    )


def _orm_status(ids, at):
    """consent_status() as it was, on the ORM's rows."""
    by_patient = {pk: [] for pk in ids}
    last = None
    for record_id, patient_id, signed_at, withdrawn_at, version, reconsent, region, accepted in _orm_rows(
        ids, at
    ):
        if record_id != last:
            last = record_id
            consent = selectors.ConsentOnFile(record_id, signed_at, withdrawn_at, version)
            by_patient[patient_id].append((consent, reconsent or "", []))
        by_patient[patient_id][-1][2].append((region, accepted))
    return {pk: _with_general_first(records, at) for pk, records in by_patient.items()}


def _sql_rows(ids, at):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(selectors.CONSENT_STATUS_SQL, {"ids": ids, "at": at, "today": timezone.localdate(at)})
        return cursor.fetchall()


def _by_record(rows):
    """The rows grouped per record, in the order records come, each record's decisions as a set (the ORM
    query left them in no order; the statuses do not depend on it)."""
    grouped = []
    for row in rows:
        if not grouped or grouped[-1][0] != row[:6]:
            grouped.append((row[:6], set()))
        grouped[-1][1].add(row[6:])
    return grouped


def _sign(patient, form, at, *, declined=(), by):
    """A signed record on `form` at `at`, written as an import would (the services sign only now, on the
    current version); every risk of the version decided, as the database requires."""
    record = ConsentRecord.objects.create(
        patient=patient,
        form=form,
        explained_by=by,
        signer_name=patient.full_name,
        signature=SIGNATURE,
        signed_at=at,
    )
    RiskDecision.objects.bulk_create(
        RiskDecision(record=record, risk_item=item, accepted=item.region not in declined)
        for item in form.risks.all()
    )
    return record


def _withdraw(record, at, by):
    record.withdrawn_at, record.withdrawn_by, record.withdrawal_reason = at, by, "Changed their mind"
    record.save(update_fields=WITHDRAWAL_FIELDS)


@pytest.fixture
def history():
    """Versions and records spread over two months, around a fixed 'now' (noon in Vancouver, so that the
    UTC and local dates differ in the evening instants below)."""
    tz = ZoneInfo("America/Vancouver")
    now = datetime(2026, 6, 15, 12, 0, tzinfo=tz)
    day = timedelta(days=1)
    by = PhysioFactory()
    forms = {
        "first": ConsentFormFactory(effective_date=(now - 60 * day).date(), published_at=now - 61 * day),
        # A later version without re-consent: records on the first stay good.
        "minor": ConsentFormFactory(effective_date=(now - 40 * day).date(), published_at=now - 41 * day),
        # Requires re-consent, effective 20 days ago but published only 5 days ago (published later).
        "late": ConsentFormFactory(
            effective_date=(now - 20 * day).date(), published_at=now - 5 * day, requires_reconsent=True
        ),
        # The same effective date as "late", published an hour after it: supersedes "late" itself.
        "same_day": ConsentFormFactory(
            effective_date=(now - 20 * day).date(),
            published_at=now - 5 * day + timedelta(hours=1),
            requires_reconsent=True,
        ),
        # Requires re-consent from ten days ahead: nothing until then.
        "future": ConsentFormFactory(
            effective_date=(now + 10 * day).date(), published_at=now - 1 * day, requires_reconsent=True
        ),
        # Published only tomorrow (effective already): not in effect now.
        "tomorrow": ConsentFormFactory(
            effective_date=(now - 2 * day).date(), published_at=now + 1 * day, requires_reconsent=True
        ),
        "draft": ConsentFormFactory(
            effective_date=(now - 3 * day).date(), published_at=None, requires_reconsent=True
        ),
    }
    patients = [PatientFactory() for _ in range(9)]
    nothing, accepted, declined_neck, declined_general, withdrawn, several, on_minor, on_late, newest = (
        patients
    )
    _sign(accepted, forms["first"], now - 50 * day, by=by)
    _sign(declined_neck, forms["minor"], now - 30 * day, declined=(Region.NECK,), by=by)
    _sign(declined_general, forms["minor"], now - 30 * day, declined=(Region.GENERAL,), by=by)
    _withdraw(_sign(withdrawn, forms["minor"], now - 30 * day, by=by), now - 2 * day, by)
    # Several records: an old acceptance, a newer neck decline, the newest withdrawn tomorrow.
    _sign(several, forms["first"], now - 55 * day, by=by)
    _sign(several, forms["minor"], now - 35 * day, declined=(Region.NECK,), by=by)
    _withdraw(_sign(several, forms["minor"], now - 25 * day, by=by), now + 1 * day, by)
    _sign(on_minor, forms["minor"], now - 39 * day, declined=(Region.MID_BACK,), by=by)
    _sign(on_late, forms["late"], now - 4 * day, by=by)
    # Two records signed at the same instant: the higher id comes first.
    _sign(newest, forms["same_day"], now - 3 * day, declined=(Region.MID_BACK,), by=by)
    # ... the newer of them withdrawn yesterday.
    _withdraw(_sign(newest, forms["same_day"], now - 3 * day, by=by), now - 1 * day, by)
    # And one signed in the future of some instants below.
    _sign(newest, forms["same_day"], now + 2 * day, declined=(Region.NECK,), by=by)
    instants = [
        now,
        now - 45 * day,  # before "minor" was signed by most
        now - 20 * day,  # "late" effective but not yet published
        now - 5 * day,  # "late" published, "same_day" not yet
        now - 5 * day + timedelta(hours=1),  # both
        now + 1 * day,  # "tomorrow" published; a withdrawal takes effect
        now + 10 * day + timedelta(hours=15),  # "future" in effect; late evening: UTC is a day ahead
        now + 10 * day - timedelta(hours=12),  # midnight local, the day "future" takes effect
        now + 10 * day - timedelta(hours=12, seconds=1),  # a second before it
    ]
    return [p.pk for p in patients], instants


def test_the_fixed_statement_reads_the_rows_the_orm_query_read(history):
    ids, instants = history
    for at in instants:
        sql, orm = _sql_rows(ids, at), _orm_rows(ids, at)
        assert len(sql) == len(orm)
        assert _by_record(sql) == _by_record(orm), at
    # Every kind of row is there to compare: re-consent versions, withdrawals, declines, and none.
    rows = [row for at in instants for row in _sql_rows(ids, at)]
    assert None in {row[5] for row in rows} and len({row[5] for row in rows} - {None}) >= 2
    assert any(row[3] is not None for row in rows) and not all(row[7] for row in rows)


def test_consent_status_gives_the_statuses_the_orm_query_gave(history):
    ids, instants = history
    seen = set()
    for at in instants:
        with time_machine.travel(at, tick=False):
            assert selectors.consent_status(ids, at=at) == _orm_status(ids, at), at
            assert selectors.consent_status(ids) == _orm_status(ids, at), at  # at defaults to now
        statuses = _orm_status(ids, at)
        seen |= {status.state for by_region in statuses.values() for status in by_region.values()}
    # The fixtures reach every state a region can be in.
    assert seen == {"none", "accepted", "declined", "withdrawn", "reconsent"}


def test_the_reconsent_version_is_the_newest_in_effect(history):
    ids, instants = history
    now = instants[0]
    statuses = selectors.consent_status(ids, at=now)
    forms = {form.version: form for form in ConsentForm.objects.all()}
    reconsent = {s.reconsent_version for by_region in statuses.values() for s in by_region.values()} - {""}
    # "same_day" supersedes "late" (the same effective date, published later) and is the one asked for;
    # "future", "tomorrow" and the draft are not in effect yet.
    assert len(reconsent) == 1
    (version,) = reconsent
    assert forms[version].effective_date == (now - timedelta(days=20)).date()
    assert forms[version].published_at == now - timedelta(days=5) + timedelta(hours=1)


def test_one_statement_for_any_number_of_patients(history, django_assert_num_queries):
    ids, instants = history
    with django_assert_num_queries(1):
        selectors.consent_status(ids[:1], at=instants[0])
    with django_assert_num_queries(1):
        selectors.consent_status(ids, at=instants[0])
    with django_assert_num_queries(0):
        assert selectors.consent_status([]) == {}


def test_the_chart_lists_the_records_the_orm_query_listed(history):
    """The consent panel's records (selectors.RECENT_RECORDS_SQL) against the ORM query it replaced:
    newest first, withdrawn ones included, two signed at the same instant by id, cut at the limit."""
    ids, _instants = history
    nameless = PhysioFactory(full_name="")
    _sign(
        PatientFactory.build(pk=ids[0]),
        ConsentForm.objects.order_by("id").first(),
        timezone.now(),
        by=nameless,
    )
    for pk in ids:
        for limit in (1, 2, 10):
            orm = ConsentRecord.objects.filter(patient_id=pk).select_related("form", "explained_by")
            expected = [
                selectors.RecordListed(r.pk, r.signed_at, r.withdrawn_at, r.form.version, str(r.explained_by))
                for r in orm.order_by("-signed_at", "-id")[:limit]
            ]
            assert selectors.recent_records(pk, limit) == expected
    assert selectors.recent_records(ids[0], 1)[0].explained_by == nameless.email
    assert len(selectors.recent_records(ids[-1], 10)) == 3  # "newest": three records
