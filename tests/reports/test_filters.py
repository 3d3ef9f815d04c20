from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.filters import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, ReportFilter, ReportFilterForm
from tests.factories import FrontDeskFactory, ManagerFactory, PhysioFactory


def form(**data):
    query = QueryDict(mutable=True)
    query.update({key: str(value) for key, value in data.items()})
    return ReportFilterForm(query)


@pytest.mark.django_db
def test_it_accepts_a_month_and_a_physiotherapist():
    physio = PhysioFactory()
    f = form(start="2026-10-01", end="2026-10-31", therapist=physio.pk)
    assert f.is_valid(), f.errors
    report_filter = f.report_filter()
    assert report_filter == ReportFilter(date(2026, 10, 1), date(2026, 10, 31), physio)
    assert report_filter.days == 31


@pytest.mark.django_db
def test_an_end_before_the_start_is_refused_with_a_message():
    f = form(start="2026-10-31", end="2026-10-01")
    assert not f.is_valid()
    assert f.errors["end"] == ["The end (2026-10-01) is before the start (2026-10-31)."]


@pytest.mark.django_db
def test_a_single_day_is_a_valid_range():
    assert form(start="2026-10-05", end="2026-10-05").is_valid()


@pytest.mark.django_db
def test_an_unknown_therapist_is_refused():
    f = form(start="2026-10-01", end="2026-10-31", therapist=987654)
    assert not f.is_valid()
    assert "that one is not known" in f.errors["therapist"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", [FrontDeskFactory, ManagerFactory])
def test_staff_who_are_not_physiotherapists_are_not_therapists(factory):
    f = form(start="2026-10-01", end="2026-10-31", therapist=factory().pk)
    assert not f.is_valid()
    assert "therapist" in f.errors


@pytest.mark.django_db
def test_no_dates_mean_the_default_range_ending_today():
    f = ReportFilterForm(QueryDict())
    assert f.is_valid(), f.errors
    report_filter = f.report_filter()
    assert report_filter.days == DEFAULT_RANGE_DAYS


@pytest.mark.django_db
def test_a_range_of_decades_is_refused():
    f = form(start="2026-01-01", end="2062-01-01")
    assert not f.is_valid()
    assert "at most" in f.errors["end"][0]
    assert MAX_RANGE_DAYS > 366


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.text(max_size=30), end=st.text(max_size=30), therapist=st.text(max_size=12))
def test_garbage_never_raises_and_never_yields_a_filter(start, end, therapist):
    f = form(start=start, end=end, therapist=therapist)
    if f.is_valid():
        report_filter = f.report_filter()
        assert report_filter.end >= report_filter.start


def test_the_range_is_whole_days_at_the_clinic():
    report_filter = ReportFilter(date(2026, 3, 8), date(2026, 3, 8))  # Vancouver springs forward that day
    vancouver = ZoneInfo("America/Vancouver")
    assert report_filter.starts_at == datetime(2026, 3, 8, tzinfo=vancouver)
    assert report_filter.ends_before == datetime(2026, 3, 9, tzinfo=vancouver)
    utc = ZoneInfo("UTC")
    elapsed = report_filter.ends_before.astimezone(utc) - report_filter.starts_at.astimezone(utc)
    assert elapsed == timedelta(hours=23)


@pytest.mark.django_db
def test_the_audit_text_names_the_filters_and_no_patient():
    physio = PhysioFactory(email="kim@clinic.test")
    text = ReportFilter(date(2026, 10, 1), date(2026, 10, 31), physio).as_audit()
    assert text == f"from 2026-10-01, to 2026-10-31, therapist {physio.pk} (kim@clinic.test)"


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "end"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-02")])
def test_dates_no_clinic_record_can_hold_are_refused(start, end):
    f = form(start=start, end=end)
    assert not f.is_valid()
    assert "Choose a date between 1900-01-01 and 2999-12-31." in str(f.errors)


@pytest.mark.django_db
def test_the_filters_show_what_was_chosen_escaped_with_each_error_beside_its_field():
    from reports.forms import ExportForm

    chosen = PhysioFactory(full_name='Ann "><script>alert(1)</script>')
    html = str(form(start="2026-10-01", end="2026-10-31", therapist=chosen.pk).as_filters())
    assert "<script>" not in html and "Ann &quot;&gt;&lt;script&gt;" in html
    assert f'<option value="{chosen.pk}" selected>' in html
    assert 'value="2026-10-01" class="dateinput form-control" required id="id_start"' in html
    bad = form(start="2026-10-31", end="2026-10-01", therapist=999999)
    assert not bad.is_valid()
    html = str(bad.as_filters())
    assert 'class="dateinput form-control is-invalid" required aria-invalid="true"' in html
    assert 'id="id_end_error" class="invalid-feedback"' in html and "is before the start" in html
    assert 'aria-describedby="id_therapist_error"' in html and "is not known" in html
    assert '<option value="">All therapists</option>' in html and f'"{chosen.pk}" selected' not in html
    # The export form's boxes: ticked as asked, with their help text; a manager's names box is hidden.
    query = QueryDict(mutable=True)
    query.update({"start": "2026-10-01", "end": "2026-10-31", "codes": "1", "names": "1"})
    html = str(ExportForm(query, user=ManagerFactory()).as_filters())
    assert 'id="id_codes" checked>' in html and 'id="id_codes_helptext" class="form-text"' in html
    assert '<input type="hidden" name="names" value="1" id="id_names">' in html


@pytest.mark.django_db
def test_the_options_read_only_the_columns_their_labels_show_and_the_chosen_one_whole():
    """Hundreds of therapists (issue 17): their options are built from the columns User.__str__ reads,
    labelled as ever (the name, else the e-mail); the therapist chosen is read whole for the filter."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    named = PhysioFactory(full_name="Zoë <Physio>")
    unnamed = PhysioFactory(full_name="")
    form = ReportFilterForm(QueryDict(f"start=2026-10-01&end=2026-10-31&therapist={named.pk}"))
    assert form.is_valid()
    assert form.report_filter().therapist.email == named.email
    with CaptureQueriesContext(connection) as captured:
        html = str(form.as_filters())
    options = [q["sql"] for q in captured.captured_queries if '"accounts_user"' in q["sql"]]
    assert options and all("date_joined" not in sql and "password" not in sql for sql in options)
    assert f'<option value="{named.pk}" selected>Zoë &lt;Physio&gt;</option>' in html
    assert f'<option value="{unnamed.pk}">{unnamed.email}</option>' in html


@pytest.mark.django_db
def test_the_options_are_labelled_and_ordered_as_the_models_show_them_in_one_query_each(
    django_assert_max_num_queries,
):
    """The options are built from plain values (issue 17), not model objects: each label must still be
    what the model's __str__ says, in the queryset's order, and an id outside the list still refused.
    Read once (a digest and the rows), then kept: one query each (the digest) while the rows stay."""
    from accounts.models import Role, User
    from appointments.models import Location

    for name in ("Zed", "", "Émile", "adam", "Adam"):
        PhysioFactory(full_name=name)
    FrontDeskFactory(full_name="Not a therapist")
    for name in ("West", "Annex", "Zoë's"):
        Location.objects.create(name=name)
    f = ReportFilterForm(QueryDict("start=2026-10-01&end=2026-10-31"))
    with django_assert_max_num_queries(4):
        first = [choice for choice in f.fields["therapist"].choices]  # noqa: C416 - list() counts
        [choice for choice in f.fields["location"].choices]  # noqa: C416
    f = ReportFilterForm(QueryDict("start=2026-10-01&end=2026-10-31"))
    with django_assert_max_num_queries(2):
        therapists = [choice for choice in f.fields["therapist"].choices]  # noqa: C416 - list() counts
        locations = [choice for choice in f.fields["location"].choices]  # noqa: C416
    assert therapists == first
    expected = [(u.pk, str(u)) for u in User.objects.filter(role=Role.PHYSIO).order_by("full_name")]
    assert therapists == [("", "All therapists"), *expected] and len(expected) == 5
    assert locations == [("", "All locations"), *((x.pk, str(x)) for x in Location.objects.order_by("name"))]
    unknown = form(start="2026-10-01", end="2026-10-31", location=987654)
    assert not unknown.is_valid()
    assert unknown.errors["location"] == ["Choose one of the clinic's locations: that one is not known."]
    chosen = Location.objects.get(name="Annex")
    valid = form(start="2026-10-01", end="2026-10-31", location=chosen.pk)
    assert valid.is_valid(), valid.errors
    report_filter = valid.report_filter()
    assert report_filter.location == chosen and report_filter.location.name == "Annex"


def options_shown(query="start=2026-10-01&end=2026-10-31"):
    """The therapist and location options a new form shows: (value, label) pairs read from its HTML."""
    import re

    html_text = str(ReportFilterForm(QueryDict(query)).as_filters())
    selects = dict(re.findall(r'<select name="(\w+)".*?>(.*?)</select>', html_text))
    return {
        name: re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', options)
        for name, options in selects.items()
    }


def options_read_now():
    """The options as the querysets read them now, uncached, labelled by the models' __str__."""
    from html import escape

    from accounts.models import Role, User
    from appointments.models import Location

    def shown(rows, chosen=""):
        return [("", " selected" if chosen == "" else "", rows[0])] + [
            (str(x.pk), "", escape(str(x))) for x in rows[1]
        ]

    return {
        "therapist": shown(
            ("All therapists", User.objects.filter(role=Role.PHYSIO).order_by("full_name", "pk"))
        ),
        "location": shown(("All locations", Location.objects.order_by("name", "pk"))),
    }


@pytest.mark.django_db
def test_kept_options_change_at_once_when_the_therapists_or_locations_change():
    """The options are kept (issue 17) under a digest of the very rows shown: whatever changes them, by a
    model save, a bulk update or raw SQL, the next page shows the change; nothing else is read again."""
    from django.db import connection

    from accounts.models import Role, User
    from appointments.models import Location

    anna = PhysioFactory(full_name="Anna")
    PhysioFactory(full_name="Ben")
    Location.objects.create(name="Main")
    assert options_shown() == options_read_now()
    assert options_shown() == options_read_now()  # kept
    changes = [
        lambda: PhysioFactory(full_name="Cleo"),  # a therapist added
        lambda: User.objects.filter(pk=anna.pk).update(full_name="Anna Z"),  # renamed, no signal
        lambda: setattr(anna, "full_name", "") or anna.save(),  # no name: the e-mail shows
        lambda: User.objects.filter(pk=anna.pk).update(email="anna.new@example.test"),
        lambda: User.objects.filter(pk=anna.pk).update(role=Role.MANAGER),  # no longer a therapist
        lambda: connection.cursor().execute(  # raw SQL: back to a therapist, renamed
            "UPDATE accounts_user SET role = %s, full_name = %s WHERE id = %s",
            [Role.PHYSIO, "Aaron", anna.pk],
        ),
        lambda: Location.objects.create(name="East"),
        lambda: Location.objects.filter(name="Main").update(name="Zed <main>"),
    ]
    seen = [options_shown()]
    for change in changes:
        change()
        assert options_shown() == options_read_now()
        seen.append(options_shown())
    assert all(before != after for before, after in zip(seen, seen[1:], strict=False))  # each one shows
    # Deactivated, a therapist stays in the list (their past sessions are still reported) under the same
    # label: the kept options are the same list, as a fresh read gives.
    User.objects.filter(pk=anna.pk).update(is_active=False)
    assert options_shown() == options_read_now() == seen[-1]
    labels = dict((value, label) for value, _, label in options_shown()["therapist"])
    assert labels[str(anna.pk)] == "Aaron" and "Zed &lt;main&gt;" in str(options_shown()["location"])


@pytest.mark.django_db
def test_kept_options_mark_the_chosen_one_and_nothing_for_an_unknown_value():
    from appointments.models import Location

    physios = [PhysioFactory(full_name=f"Physio {n}") for n in range(3)]
    main = Location.objects.create(name="Main")
    for physio in physios:
        query = f"start=2026-10-01&end=2026-10-31&therapist={physio.pk}&location={main.pk}"
        shown = options_shown(query)
        assert [value for value, selected, _ in shown["therapist"] if selected] == [str(physio.pk)]
        assert [value for value, selected, _ in shown["location"] if selected] == [str(main.pk)]
    shown = options_shown("start=2026-10-01&end=2026-10-31&therapist=98765&location=x%22")
    assert not any(selected for value, selected, _ in shown["therapist"] + shown["location"])
    assert [value for value, selected, _ in options_shown()["therapist"] if selected] == [""]


@pytest.mark.django_db
def test_kept_options_cost_the_filters_one_query_for_both_lists(django_assert_num_queries):
    """Both lists' digests are read in one statement; a list kept in the cache is not read again."""
    from appointments.models import Location

    PhysioFactory(full_name="Anna")
    Location.objects.create(name="Main")
    query = QueryDict("start=2026-10-01&end=2026-10-31")
    first = str(ReportFilterForm(query).as_filters())
    with django_assert_num_queries(1):
        again = str(ReportFilterForm(query).as_filters())
    assert again == first and ">Anna</option>" in again and ">Main</option>" in again
