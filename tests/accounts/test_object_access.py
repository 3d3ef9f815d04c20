"""Who may act on this object (issue 11, part 1; STYLE.md): every URL that takes an object id, walked from
the URLconf like test_access_rules.py walks the roles, GET and POST, for every role and for the two cases
the role alone cannot tell apart: another (authorised) clinician than the object's own, and an
unauthorised clinician (the intern). Each such URL must be listed in URLS (or, for the admin, its model in
ADMIN_MODELS), so a new URL cannot escape the table: the test fails for an unlisted one.

An expectation names who gets through (anything but 403; never a server error) and who is refused (403,
with exactly one audit event saying what was refused). METHOD_NOT_ALLOWED marks the POST-only views,
whose GET answers 405 to the roles that may use them."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.accounts.test_access_rules import ALL_URLS
from tests.factories import (
    AdminFactory,
    AppointmentFactory,
    ConsentFormFactory,
    FrontDeskFactory,
    ManagerFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)

OWNER = "owner"  # the session's clinician, the appointment's physiotherapist
OTHER = "other_clinician"  # another physiotherapist with a current needling authorisation
INTERN = "unauthorised_clinician"  # a physiotherapist without one
DESK, MANAGER, ADMIN = "front_desk", "manager", "administrator"
CASES = [OWNER, OTHER, INTERN, DESK, MANAGER, ADMIN]

PHYSIOS = {OWNER, OTHER, INTERN}
CLINICAL = PHYSIOS | {ADMIN}
REGISTRY = PHYSIOS | {DESK, ADMIN}
FRONT = {DESK, ADMIN}
PAYMENTS = {DESK, MANAGER, ADMIN}
EVERYONE = set(CASES)
NOBODY = set()


@dataclass(frozen=True)
class MethodNotAllowed:
    """A POST-only view: these cases get 405 on GET, everyone else 403."""

    cases: frozenset


def METHOD_NOT_ALLOWED(cases):  # noqa: N802 (reads as a constant in the table)
    return MethodNotAllowed(frozenset(cases))


@dataclass(frozen=True)
class Expect:
    get: object  # the cases that get through, or MethodNotAllowed
    post: set
    objects: dict = field(default_factory=dict)  # URL parameter -> world object


# Every URL that takes an object id, by name. The object is the owner's unless said otherwise.
URLS = {
    # patients: the registry's roles; the archive is the front desk's and the administrator's
    "patients:chart": Expect(REGISTRY, REGISTRY, {"pk": "patient"}),
    "patients:edit": Expect(REGISTRY, REGISTRY, {"pk": "patient"}),
    "patients:archive": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "patient"}),
    "patients:screening": Expect(CLINICAL, CLINICAL, {"pk": "patient"}),
    # chart privacy (issue 12): a physiotherapist breaks the glass (with CHART_ACCESS=all they need not,
    # and are sent on to the chart); the administrator reads each patient's access report
    "patients:break_glass": Expect(PHYSIOS, PHYSIOS, {"pk": "patient"}),
    "patients:access_report": Expect({ADMIN}, {ADMIN}, {"pk": "patient"}),
    # consent: clinicians read; a physiotherapist records a consent or its withdrawal
    "consent:obtain": Expect(CLINICAL, PHYSIOS, {"patient_pk": "patient"}),
    "consent:detail": Expect(CLINICAL, CLINICAL, {"pk": "consent"}),
    "consent:pdf": Expect(CLINICAL, CLINICAL, {"pk": "consent"}),
    "consent:withdraw": Expect(PHYSIOS, PHYSIOS, {"pk": "consent"}),
    # consent form versions (issue 14 part 4): the administrator's alone, drafts and published ones alike
    "consent:version": Expect({ADMIN}, {ADMIN}, {"pk": "consent_form"}),
    "consent:version_preview": Expect({ADMIN}, {ADMIN}, {"pk": "consent_form"}),
    "consent:version_publish": Expect({ADMIN}, {ADMIN}, {"pk": "consent_form"}),
    # appointments: everyone sees the calendar; the desk acts; the manager edits schedules
    "appointments:week": Expect(EVERYONE, EVERYONE, {"therapist_id": OWNER}),
    "appointments:detail": Expect(EVERYONE, EVERYONE, {"pk": "appointment"}),
    "appointments:check_in": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "appointment"}),
    "appointments:undo_check_in": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "appointment"}),
    "appointments:confirm": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "appointment"}),
    "appointments:no_show": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "appointment"}),
    "appointments:cancel": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "appointment"}),
    "appointments:reschedule": Expect(FRONT, FRONT, {"pk": "appointment"}),
    "appointments:therapist_schedule": Expect({MANAGER, ADMIN}, {MANAGER, ADMIN}, {"pk": OWNER}),
    # fees and receipts (issue 15 part 4b): the desk's business at check-out, and the manager's; not clinical
    "appointments:pay": Expect(METHOD_NOT_ALLOWED(PAYMENTS), PAYMENTS, {"pk": "appointment"}),
    "appointments:refund": Expect(METHOD_NOT_ALLOWED(PAYMENTS), PAYMENTS, {"pk": "appointment"}),
    "appointments:receipt": Expect(PAYMENTS, PAYMENTS, {"pk": "appointment", "payment_pk": "payment"}),
    "appointments:receipt_email": Expect(
        METHOD_NOT_ALLOWED(PAYMENTS), PAYMENTS, {"pk": "appointment", "payment_pk": "payment"}
    ),
    # online booking (issue 15 part 2): the desk verifies the record an online booking made, or merges it
    # into an existing patient (appointments/online_views.py)
    "appointments:online_verify": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "patient"}),
    "appointments:online_merge": Expect(FRONT, FRONT, {"pk": "patient"}),
    # the waitlist (issue 15): the desk (and the administrator) take people off it
    "appointments:waitlist_remove": Expect(METHOD_NOT_ALLOWED(FRONT), FRONT, {"pk": "waitlist_entry"}),
    # treatments: the care team reads a session, draft or signed; only its own clinician writes,
    # needles on and signs it; an addendum needs its clinician or another authorised one
    "treatments:start_from_appointment": Expect(
        METHOD_NOT_ALLOWED(PHYSIOS), PHYSIOS, {"appointment_pk": "appointment"}
    ),
    "treatments:start": Expect(METHOD_NOT_ALLOWED(PHYSIOS), PHYSIOS, {"patient_pk": "patient"}),
    "treatments:session": Expect(CLINICAL, CLINICAL, {"pk": "draft"}),
    # repeat last session: the draft's own clinician; the session repeated (a form field) must be the same
    # patient's (tests/treatments/test_repeat_last_session.py)
    "treatments:repeat": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft"}),
    # the PSFS: any physiotherapist who may open the chart scores it (not needling: no authorisation needed)
    "treatments:psfs": Expect(PHYSIOS, PHYSIOS, {"patient_pk": "patient"}),
    "treatments:save": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft"}),
    "treatments:point_form": Expect({OWNER}, {OWNER}, {"pk": "draft"}),
    "treatments:point_add": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft"}),
    "treatments:point_edit": Expect({OWNER}, {OWNER}, {"pk": "draft", "point_pk": "point"}),
    "treatments:point_remove": Expect(
        METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft", "point_pk": "point"}
    ),
    "treatments:acknowledge": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft"}),
    "treatments:side_effect_add": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft"}),
    "treatments:sign": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER}, {"pk": "draft"}),
    "treatments:addendum_add": Expect(METHOD_NOT_ALLOWED(PHYSIOS), {OWNER, OTHER}, {"pk": "signed"}),
    "treatments:pdf": Expect(CLINICAL, CLINICAL, {"pk": "draft"}),
    # the aftercare handout to print: the visit summary's readers (the desk prints neither)
    "treatments:aftercare": Expect(CLINICAL, CLINICAL, {"pk": "signed"}),
    # e-mailing it after signing: the same readers (the desk neither prints nor sends it)
    "treatments:aftercare_send": Expect(METHOD_NOT_ALLOWED(CLINICAL), CLINICAL, {"pk": "signed"}),
    # incidents: clinicians and the manager read; physiotherapists and the manager record the follow-up
    "treatments:incident": Expect(PHYSIOS | {MANAGER, ADMIN}, PHYSIOS | {MANAGER}, {"pk": "incident"}),
    # interop (issue 16): the administrator imports; clinicians export a patient's record as FHIR
    "interop:batch": Expect({ADMIN}, {ADMIN}, {"pk": "import_batch"}),
    "interop:confirm": Expect(METHOD_NOT_ALLOWED({ADMIN}), {ADMIN}, {"pk": "import_batch"}),
    "interop:discard": Expect(METHOD_NOT_ALLOWED({ADMIN}), {ADMIN}, {"pk": "import_batch"}),
    "interop:patient_bundle": Expect(CLINICAL, CLINICAL, {"patient_pk": "patient"}),
    # outbox (issue 15): the administrator retries a failed e-mail
    "outbox:retry": Expect(METHOD_NOT_ALLOWED({ADMIN}), {ADMIN}, {"pk": "email"}),
    # a background export (issues 15-17): the person who asked alone (here the manager; GET only, so their
    # POST is a 405); another administrator is refused too (tests/outbox/test_background_exports.py)
    "outbox:export_download": Expect({MANAGER}, {MANAGER}, {"pk": "export"}),
    # the follow-up after needling (issue 15): the desk (or the manager) marks an unanswered one phoned
    "treatments:follow_up_phoned": Expect(
        METHOD_NOT_ALLOWED({DESK, MANAGER}), {DESK, MANAGER}, {"pk": "follow_up"}
    ),
}
# URLs with a parameter that names no object: a report's key, a password reset link, a patient's signed link
# (public: its token is the permission; tests/treatments/test_aftercare_link.py,
# tests/appointments/test_patient_link.py), a location's public booking page (public: anyone may book there;
# tests/appointments/test_online_booking_page.py).
NOT_OBJECTS = {
    "reports:export",
    "password_reset_confirm",
    "aftercare:handout",
    "follow-up:form",
    "receipt:pdf",  # tests/appointments/test_receipt_link.py
    "online:location",
    "appointment-link:manage",
    "waitlist:offer",
}
# Objects named in a form field rather than the path, each with the test that shows nobody reaches
# another person's: a staff session ended from the security page (by its handle).
OBJECTS_IN_FORM_FIELDS = {
    "end_session": "tests.accounts.test_sessions.test_nobody_ends_someone_elses_session_by_its_handle",
}

# The admin is the administrator's room (everyone else: 403). For each model registered there: whether
# its rows may be changed (POST to the change page), and deleted.
READ_ONLY, EDITABLE, DELETABLE = "read only", "editable", "editable and deletable"
ADMIN_MODELS = {
    "accounts.user": EDITABLE,
    "accounts.clinicianprofile": DELETABLE,
    "auth.group": DELETABLE,  # Django's own; roles are a field on the user, groups are unused
    "audit.auditevent": READ_ONLY,
    "outbox.outboundemail": READ_ONLY,  # written by the outbox's services; "Retry now" is on its page
    "outbox.scheduledrun": READ_ONLY,
    "outbox.backgroundexport": READ_ONLY,  # written by outbox/exports.py; its file is not in the admin
    "django_tasks_database.dbtaskresult": READ_ONLY,  # django-tasks-db's own: the task runner's queue
    "patients.patient": EDITABLE,
    "patients.screening": READ_ONLY,
    "patients.screeningrule": EDITABLE,
    "consent.consentform": EDITABLE,  # published: its fields are read-only, and it is never deleted
    "consent.consentrecord": READ_ONLY,
    "appointments.location": DELETABLE,
    "appointments.room": DELETABLE,
    "appointments.appointmenttype": DELETABLE,
    "appointments.workinghours": DELETABLE,
    "appointments.timeoff": DELETABLE,
    "appointments.appointment": EDITABLE,
    "appointments.reminder": READ_ONLY,
    "appointments.payment": READ_ONLY,  # taken and refunded at the desk; the database refuses changes
    "appointments.waitlistentry": READ_ONLY,  # joined on the public page or at the desk, removed at the desk
    "treatments.muscle": EDITABLE,
    "treatments.needlesize": EDITABLE,
    "treatments.needlingsession": READ_ONLY,
    "treatments.needlepoint": READ_ONLY,
    "treatments.sideeffect": READ_ONLY,
    "treatments.addendum": READ_ONLY,
    "treatments.incident": READ_ONLY,
    "treatments.followup": READ_ONLY,  # answered on the patient's page, phoned from the desk's list
    "treatments.outcomemeasure": READ_ONLY,  # PSFS scores; the database refuses a change or a deletion
    "treatments.visitsummary": READ_ONLY,  # stored PDFs: never changed or deleted (treatments 0014)
}


def chart_url_names():
    from patients.privacy import chart_urls

    return set(chart_urls())


def takes_an_object(route):
    return bool(re.search(r"<(?:\w+:)?\w+>", route))


def url_name(entry, namespace):
    return f"{namespace}:{entry.name}" if namespace else entry.name


OBJECT_URLS = [
    (route, url_name(entry, namespace))
    for route, entry, namespace in ALL_URLS
    if takes_an_object(route) and not namespace.startswith("admin")
]
# The pages of a chart (patients/privacy.py chart_urls), which CHART_ACCESS=care_team closes first.
CHART_URL_NAMES = sorted(name for name in URLS if name in chart_url_names())
ADMIN_OBJECT_URLS = [
    (route, entry.name)
    for route, entry, namespace in ALL_URLS
    if namespace == "admin" and takes_an_object(route) and "(?P" not in route and not route.startswith("^")
]


def admin_label(route):
    """ "accounts.user" for admin/accounts/user/<path:object_id>/change/."""
    app_label, model_name = route.split("/")[1:3]
    return f"{app_label}.{model_name}"


def admin_urls_of(label):
    return [
        (route, name)
        for route, name in ADMIN_OBJECT_URLS
        if name != "view_on_site" and admin_label(route) == label
    ]


def test_every_url_that_takes_an_object_is_in_the_table():
    unlisted = [name for _route, name in OBJECT_URLS if name not in URLS and name not in NOT_OBJECTS]
    assert not unlisted, f"list these in URLS with who may use them: {unlisted}"
    stale = set(URLS) - {name for _route, name in OBJECT_URLS}
    assert not stale, f"URLS names URLs that no longer exist: {stale}"


def test_every_object_named_in_a_form_field_has_its_test():
    from importlib import import_module

    from django.urls import reverse as url_of

    for name, dotted in OBJECTS_IN_FORM_FIELDS.items():
        url_of(name)
        module, function = dotted.rsplit(".", 1)
        assert callable(getattr(import_module(module), function, None)), dotted


def test_every_model_in_the_admin_is_in_the_table():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), registered ^ set(ADMIN_MODELS)
    assert "view_on_site" in {name for _route, name in ADMIN_OBJECT_URLS}
    assert all(
        admin_label(route) in ADMIN_MODELS for route, name in ADMIN_OBJECT_URLS if name != "view_on_site"
    )


# --- the world every case acts on ----------------------------------------------------------------------
@pytest.fixture
def world(db):
    from appointments.models import Reminder, Room, TimeOff
    from treatments.models import Incident, SideEffect
    from treatments.services import add_addendum, add_point, sign_session, start_session

    owner = PhysioFactory(full_name="Priya Natarajan")
    users = {
        OWNER: owner,
        OTHER: PhysioFactory(full_name="Daniel Okafor"),
        INTERN: PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None),
        DESK: FrontDeskFactory(),
        MANAGER: ManagerFactory(),
        ADMIN: AdminFactory(),
    }
    patient = PatientFactory()
    ScreeningFactory(patient=patient)
    consent = give_consent(patient, by=owner)
    draft = start_session(patient=patient, clinician=owner)
    point = add_point(
        draft,
        by=owner,
        muscle=muscle("Gluteus medius"),
        side="L",
        needle_size=needle("0.30", 60),
        depth_mm=40,
    )
    SideEffect.objects.create(session=draft, type="fainting", severity="significant")
    other_patient = PatientFactory()
    ScreeningFactory(patient=other_patient)
    give_consent(other_patient, by=owner)
    signed = NeedlingSessionFactory(patient=other_patient, clinician=owner)
    add_point(
        signed, by=owner, muscle=muscle("Soleus"), side="R", needle_size=needle("0.30", 50), depth_mm=20
    )
    complete_session(signed)
    sign_session(signed, by=owner)
    appointment = AppointmentFactory(patient=patient, therapist=owner)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from interop.services import start_import
    from tests.interop.conftest import fixture_bytes

    import_batch = start_import(
        patients_file=SimpleUploadedFile("patients.csv", fixture_bytes("jane_patients.csv")),
        options={"encoding": "utf-8", "date_order": "auto"},
        by=users[ADMIN],
    )
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from outbox.models import OutboundEmail, ScheduledRun

    email = OutboundEmail.objects.create(
        key="world:1",
        status="failed",
        recipients=["pat@example.test"],
        subject="Your appointment",
        body="See you then.",
        next_attempt_at=timezone.now(),
        attempts=6,
        last_error="attempt 6: OSError: mail server down",
    )
    ScheduledRun.objects.create(job="send_reminders", day=timezone.localdate())
    DBTaskResult.objects.create(
        args_kwargs={"args": [email.pk], "kwargs": {}},
        task_path="outbox.tasks.deliver_email",
        backend_name="default",
    )
    from appointments.models import Payment

    payment = Payment.objects.create(
        appointment=appointment, amount="95.00", method="debit", receipt_number=1, recorded_by=users[DESK]
    )
    from appointments.models import WaitlistEntry
    from outbox.exports import ChunkWriter
    from outbox.models import BackgroundExport
    from treatments.models import FollowUp

    waitlist_entry = WaitlistEntry.objects.create(
        patient=patient, given_name="Zoë", family_name="Côté", email="pat@example.test",
        type=appointment.type, location=appointment.location,
    )  # fmt: skip
    export = BackgroundExport.objects.create(
        requested_by=users[MANAGER],
        kind="reports.sessions",
        description="Sessions, CSV",
        function="tests.outbox.writers.write_lines",
        roles=[MANAGER],
        filename="sessions.csv",
        content_type="text/csv",
    )
    size, sha256 = ChunkWriter(export).finish()
    BackgroundExport.objects.filter(pk=export.pk).update(
        status="done",
        size=size,
        sha256=sha256,
        finished_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    objects = {
        "waitlist_entry": waitlist_entry,
        "export": export,
        "follow_up": FollowUp.objects.create(session=signed, sent_at=timezone.now()),
        "payment": payment,
        "email": email,
        "patient": patient,
        "consent": consent,
        "consent_form": consent.form,
        "draft": draft,
        "point": point,
        "signed": signed,
        "appointment": appointment,
        "incident": Incident.objects.get(),
        "import_batch": import_batch,
        OWNER: owner,
    }
    # One row of every model the admin shows.
    Room.objects.create(location=appointment.location, name="Room 1")
    TimeOff.objects.create(therapist=owner, start=appointment.start, end=appointment.end, reason="Course")
    Reminder.objects.create(
        appointment=appointment,
        kind="booking",
        sent_to="pat@example.test",
        appointment_start=appointment.start,
    )
    from tests.factories import WorkingHoursFactory

    WorkingHoursFactory(therapist=owner)
    add_addendum(signed, by=owner, text="Soreness settled the next day.")
    from treatments.outcomes import record_psfs

    record_psfs(patient=patient, by=owner, activities=[("Turning my head to reverse the car", 4)])
    from treatments.summary import store_visit_summary

    store_visit_summary(signed)
    ConsentFormFactory(published_at=None)
    from django.contrib.auth.models import Group

    Group.objects.create(name="Unused")
    return users, objects


def request(client, method, path):
    return client.get(path) if method == "GET" else client.post(path, {})


def check(client, user, method, path, allowed, method_not_allowed=False):
    denied_before = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).count()
    response = request(client, method, path)
    denied = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).count() - denied_before
    who = f"{user.role} {user.full_name}"
    if method_not_allowed:
        assert response.status_code == 405, f"{who}: {method} {path} answered {response.status_code}, not 405"
    elif allowed:
        assert response.status_code != 403, f"{who} was refused {method} {path}"
        assert response.status_code < 500
    else:
        assert response.status_code == 403, f"{who} got {response.status_code} on {method} {path}, not 403"
        assert denied == 1, f"{who}: {method} {path} left {denied} audit events of the refusal, not one"


@pytest.mark.parametrize("name", sorted(URLS))
def test_each_case_is_let_through_or_refused_as_the_table_says(client, world, name):
    users, objects = world
    expect = URLS[name]
    path = reverse(name, kwargs={param: objects[key].pk for param, key in expect.objects.items()})
    for method in ("GET", "POST"):
        rule = expect.get if method == "GET" else expect.post
        through, not_allowed = (NOBODY, rule.cases) if isinstance(rule, MethodNotAllowed) else (rule, NOBODY)
        # Refusals first: the cases let through may change the object (a check-in, a cancellation).
        for case in sorted(CASES, key=lambda c: c in through):
            client.force_login(users[case])
            check(
                client,
                users[case],
                method,
                path,
                allowed=case in through,
                method_not_allowed=case in not_allowed,
            )


@pytest.mark.parametrize("label", sorted(ADMIN_MODELS))
def test_the_admin_acts_on_each_object_as_the_table_says(client, world, label):
    users, _objects = world
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the world has no {label} to open"
    policy = ADMIN_MODELS[label]
    urls = admin_urls_of(label)
    assert urls, f"no admin URL of {label} takes an object"
    for route, name in urls:
        if name is None:
            action = "open"  # admin/<app>/<model>/<id>/ redirects to the change page
        elif name.endswith("password_change"):
            action = "password"
        else:
            action = name.rsplit("_", 1)[1]
        expectations = {
            "open": {"GET": True, "POST": True},
            "change": {"GET": True, "POST": policy != READ_ONLY},
            "history": {"GET": True, "POST": True},
            "delete": {"GET": policy == DELETABLE, "POST": policy == DELETABLE},
            "password": {"GET": True, "POST": True},
        }[action]
        path = "/" + re.sub(r"<(?:\w+:)?\w+>", str(obj.pk), route)
        for case in CASES:
            client.force_login(users[case])
            for method in ("GET", "POST"):
                check(client, users[case], method, path, allowed=case == ADMIN and expectations[method])


def test_view_on_site_is_the_administrators_alone(client, world):
    from django.contrib.contenttypes.models import ContentType

    users, _objects = world
    owner = users[OWNER]
    path = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(owner).pk, owner.pk])
    for case in CASES:
        client.force_login(users[case])
        check(client, users[case], "GET", path, allowed=case == ADMIN)


@pytest.mark.parametrize("name", sorted(CHART_URL_NAMES))
def test_with_chart_privacy_other_clinicians_are_sent_to_break_the_glass_first(client, world, name, settings):
    """CHART_ACCESS=care_team (issue 12) closes every page of a chart to a physiotherapist outside the
    patient's care team (here the other and the unauthorised clinician: the owner booked, treated and
    obtained consent) before the object's own rule is asked; the owner meets the table as before."""
    from patients.privacy import chart_urls

    settings.CHART_ACCESS = "care_team"
    users, objects = world
    expect = URLS[name]
    kwargs = {param: objects[key].pk for param, key in expect.objects.items()}
    path = reverse(name, kwargs=kwargs)
    glass = reverse("patients:break_glass", args=[chart_urls()[name](kwargs)])
    for method in ("GET", "POST"):
        for case in (OTHER, INTERN):
            client.force_login(users[case])
            denied_before = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).count()
            response = request(client, method, path)
            assert response.status_code == 302 and response.url.startswith(glass), (case, method, path)
            assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).count() == denied_before + 1
        rule = expect.get if method == "GET" else expect.post
        client.force_login(users[OWNER])
        if isinstance(rule, MethodNotAllowed):
            check(client, users[OWNER], method, path, allowed=False, method_not_allowed=OWNER in rule.cases)
        elif method == "GET" or OWNER not in rule:
            check(client, users[OWNER], method, path, allowed=OWNER in rule)


# --- the reproductions of issue 11, part 1, by name --------------------------------------------------
def test_the_intern_posting_an_anterior_scalene_point_on_physios_draft_is_refused_and_audited(client, world):
    users, objects = world
    client.force_login(users[INTERN])
    response = client.post(
        reverse("treatments:point_add", args=[objects["draft"].pk]),
        {"muscle": muscle("Anterior scalene").pk, "side": "R", "needle_size": needle("0.25", 30).pk,
         "depth_mm": "10", "insertions": "1", "technique": "pistoning", "twitch_response": "none",
         "patient_response": "none"},
    )  # fmt: skip
    assert response.status_code == 403
    assert objects["draft"].points.count() == 1
    refusal = AuditEvent.objects.get(action=Action.PERMISSION_DENIED, actor=users[INTERN])
    assert refusal.patient_id == objects["patient"].pk
    assert (
        f"refused: add needle points or side effects to needling session {objects['draft'].pk}"
        in refusal.detail
    )


@pytest.mark.parametrize("case", [INTERN, OTHER])
def test_saving_editing_a_point_and_side_effects_on_anothers_draft_are_refused(client, world, case):
    users, objects = world
    draft, point = objects["draft"], objects["point"]
    client.force_login(users[case])
    for path, data in [
        (reverse("treatments:save", args=[draft.pk]), {"plan": "rewritten", "version": 1}),
        (reverse("treatments:point_edit", args=[draft.pk, point.pk]), {"depth_mm": "5"}),
        (reverse("treatments:side_effect_add", args=[draft.pk]), {"type": "bruising", "severity": "mild"}),
    ]:
        assert client.post(path, data).status_code == 403
    draft.refresh_from_db()
    point.refresh_from_db()
    assert draft.plan == "" and point.depth_mm == 40 and draft.side_effects.count() == 1


def test_the_intern_adds_no_addendum_to_a_signed_session_but_a_covering_clinician_does(client, world):
    from treatments.models import Addendum

    users, objects = world
    url = reverse("treatments:addendum_add", args=[objects["signed"].pk])
    client.force_login(users[INTERN])
    assert client.post(url, {"text": "Not mine to add"}).status_code == 403
    client.force_login(users[OTHER])
    client.post(url, {"text": "Covering: patient phoned, soreness settled."})
    covering = Addendum.objects.get(text__startswith="Covering")
    assert covering.author == users[OTHER]  # attributed to its author, not the session's clinician


def test_the_care_team_reads_a_colleagues_draft_without_its_forms(client, world):
    users, objects = world
    client.force_login(users[OTHER])
    page = client.get(reverse("treatments:session", args=[objects["draft"].pk])).content.decode()
    assert 'data-testid="draft-of-colleague"' in page and "Only Priya Natarajan writes and signs it" in page
    assert (
        'id="point-form"' not in page and reverse("treatments:save", args=[objects["draft"].pk]) not in page
    )


def test_an_authorisation_that_lapses_mid_session_stops_further_points_with_a_message(client, world):
    from datetime import date

    users, objects = world
    owner, draft = users[OWNER], objects["draft"]
    profile = owner.clinician_profile
    profile.needling_authorisation_expires = date(2021, 1, 1)
    profile.save()
    client.force_login(owner)
    response = client.post(
        reverse("treatments:point_add", args=[draft.pk]),
        {"muscle": muscle("Soleus").pk, "side": "R", "needle_size": needle("0.30", 50).pk, "depth_mm": "20",
         "insertions": "1", "technique": "pistoning", "twitch_response": "none", "patient_response": "none"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert "has no current needling authorisation on file (it lapsed or was never granted)" in page
    assert draft.points.count() == 1
    assert AuditEvent.objects.filter(
        action=Action.PERMISSION_DENIED, actor=owner, detail__contains="no current needling authorisation"
    ).exists()
