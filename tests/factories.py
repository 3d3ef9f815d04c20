"""factory-boy factories shared by every app's tests. Each app adds its own below its heading."""

import base64
from datetime import date, time, timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import ClinicianProfile, Role, User

TEST_PASSWORD = "correct-horse-battery-staple"
# Hash once: Argon2 is deliberately slow, and hundreds of test users need not each pay for it.
TEST_PASSWORD_HASH = make_password(TEST_PASSWORD)


# --- accounts ---------------------------------------------------------------------------------------
class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@clinic.test")
    full_name = factory.Faker("name", locale="en_CA")
    role = Role.FRONT_DESK
    password = TEST_PASSWORD_HASH


class ClinicianProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicianProfile

    user = factory.SubFactory(UserFactory, role=Role.PHYSIO)
    registration_number = factory.Sequence(lambda n: f"PT-{10000 + n}")
    needling_authorised_on = date(2020, 1, 1)


class PhysioFactory(UserFactory):
    role = Role.PHYSIO
    clinician_profile = factory.RelatedFactory(ClinicianProfileFactory, factory_related_name="user")


class FrontDeskFactory(UserFactory):
    role = Role.FRONT_DESK


class ManagerFactory(UserFactory):
    role = Role.MANAGER


class AdminFactory(UserFactory):
    role = Role.ADMIN


# The key of every test user's authenticator app (give_authenticator): the tests compute its codes.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def give_authenticator(user):
    """The user's confirmed authenticator app (made with TEST_TOTP_KEY when there is none)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", key=TEST_TOTP_KEY, confirmed=True
        )
    return device


def totp_code(device, *, unused=True):
    """The code the device's app shows now; unused=True: one the device has not accepted yet (the next
    step's, within the one-step tolerance, when this step's was already used by an earlier login)."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if unused and totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t - totp.t() + 1)
    return f"{totp.token():0{device.digits}d}"


# --- patients ---------------------------------------------------------------------------------------
class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.Patient"

    given_name = factory.Faker("first_name", locale="en_CA")
    family_name = factory.Faker("last_name", locale="en_CA")
    date_of_birth = factory.Sequence(lambda n: date(1950, 1, 1) + timedelta(days=97 * n % 20000))
    phone = factory.Sequence(lambda n: f"+1604{200 + n % 800:03d}{n % 10000:04d}")


class ScreeningFactory(factory.django.DjangoModelFactory):
    """A screening with every answer "no" unless given (pass e.g. diabetes=True)."""

    class Meta:
        model = "patients.Screening"

    patient = factory.SubFactory(PatientFactory)
    answered_by = factory.SubFactory(PhysioFactory)
    # The pneumothorax risk factors: asked ("no") on a screening made today.
    chronic_lung_disease = False
    previous_pneumothorax = False
    low_body_mass = False


# --- consent ----------------------------------------------------------------------------------------
# What signature_pad's toSVG() draws for one short stroke.
SIGNATURE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100" width="300" height="100">'
    '<path d="M 10 60 C 40 10, 65 10, 95 60 S 150 110, 180 60" fill="none" stroke="black" stroke-width="2"/>'
    "</svg>"
)
SIGNATURE = "data:image/svg+xml;base64," + base64.b64encode(SIGNATURE_SVG.encode()).decode()


class ConsentFormFactory(factory.django.DjangoModelFactory):
    """A published consent form version with a general, a neck and a mid-back risk (pass risks=False for
    none, published_at=None for a draft)."""

    class Meta:
        model = "consent.ConsentForm"
        skip_postgeneration_save = True

    title = "Consent to IMS / dry needling"
    version = factory.Sequence(lambda n: f"2026.{n + 1}")
    effective_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    body = "I have been told what IMS / dry needling is, its benefits and its risks, and I may ask questions."
    published_at = factory.LazyFunction(timezone.now)
    published_by = factory.Maybe(
        "published_at", yes_declaration=factory.SubFactory(AdminFactory), no_declaration=None
    )

    @factory.post_generation
    def risks(form, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        from consent.models import Region, RiskItem

        # bulk_create: a published version's risks refuse a save (consent.models.RiskItem), and a fixture
        # writes them as a migration or an import would.
        RiskItem.objects.bulk_create(
            RiskItem(form=form, region=region, title=title, description=title + ".", order=order)
            for order, (region, title) in enumerate(
                [
                    (Region.GENERAL, "Soreness, bruising, bleeding, fainting"),
                    (Region.NECK, "Needling over the neck: collapsed lung (pneumothorax)"),
                    (
                        Region.MID_BACK,
                        "Needling over the mid back and chest wall: collapsed lung (pneumothorax)",
                    ),
                ]
            )
        )


def give_consent(patient, *, accepted=None, declined=(), by=None, form=None):
    """A signed consent for `patient` through consent.services.obtaining.obtain_consent on `form` (the
    current version, made with ConsentFormFactory when there is none): each risk in a `declined` region is
    declined, each in an `accepted` region (default general, neck, mid back) accepted, any other declined."""
    from consent.models import Region
    from consent.selectors import current_form
    from consent.services.obtaining import obtain_consent

    accepted = (Region.GENERAL, Region.NECK, Region.MID_BACK) if accepted is None else accepted
    form = form or current_form() or ConsentFormFactory()
    by = by or PhysioFactory()
    decisions = {item: item.region in accepted and item.region not in declined for item in form.risks.all()}
    return obtain_consent(
        patient,
        form=form,
        decisions=decisions,
        explained_by=by,
        recorded_by=by,
        signer_name=patient.full_name,
        signature=SIGNATURE,
    )


# --- appointments -----------------------------------------------------------------------------------
class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "appointments.Location"
        django_get_or_create = ("name",)

    name = "Main clinic"
    address = "100 Main Street, Vancouver BC"


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    """The seeded "IMS follow-up" (30 minutes) unless given another name."""

    class Meta:
        model = "appointments.AppointmentType"
        django_get_or_create = ("name",)

    name = "IMS follow-up"
    default_minutes = 30


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    """Monday 08:00-16:00 at the main clinic unless given."""

    class Meta:
        model = "appointments.WorkingHours"

    therapist = factory.SubFactory(PhysioFactory)
    weekday = 0
    start = time(8, 0)
    end = time(16, 0)
    location = factory.SubFactory(LocationFactory)


def _tomorrow_at_ten(n):
    from django.utils import timezone

    local = timezone.localtime() + timedelta(days=1)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An active booking tomorrow at 10:00 (clinic time) with a new patient and physiotherapist, unless
    given: AppointmentFactory(patient=..., therapist=..., start=...). Saved directly, not through
    appointments.services.booking.book: no history row, no e-mail, no working-hours check."""

    class Meta:
        model = "appointments.Appointment"

    patient = factory.SubFactory(PatientFactory)
    therapist = factory.SubFactory(PhysioFactory)
    type = factory.SubFactory(AppointmentTypeFactory)
    location = factory.SubFactory(LocationFactory)
    start = factory.Sequence(_tomorrow_at_ten)
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.type.default_minutes))
    status = "booked"


# --- treatments -------------------------------------------------------------------------------------
def muscle(name):
    """A muscle of the seeded catalogue (migration 0002), e.g. muscle("Upper trapezius")."""
    from treatments.catalogue import ensure_catalogue
    from treatments.models import Muscle

    ensure_catalogue()  # browser tests empty every table between tests
    return Muscle.objects.get(name=name)


def needle(gauge, length):
    """A needle size of the seeded catalogue, e.g. needle("0.25", 40)."""
    from treatments.catalogue import ensure_catalogue
    from treatments.models import NeedleSize

    ensure_catalogue()
    return NeedleSize.objects.get(gauge_mm=gauge, length_mm=length)


class NeedlingSessionFactory(factory.django.DjangoModelFactory):
    """A draft session by an authorised physiotherapist, saved directly (not through start_session)."""

    class Meta:
        model = "treatments.NeedlingSession"

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(PhysioFactory)


def complete_session(session, **overrides):
    """Fill every field signing needs (needles in = out = the number of needled points, at least 1)."""
    from treatments.models import NeedlingSession

    count = session.points.filter(removal__isnull=True).count() or 1
    values = {
        "presenting_complaint": "Right neck and shoulder pain for 3 months",
        "pain_before": 6,
        "screening_reviewed": True,
        "impression": "Myofascial pain, upper trapezius",
        "plan": "IMS weekly for 4 weeks with home exercises",
        "pain_after": 3,
        "immediate_response": "Rotation improved; pain eased",
        "aftercare_heat_hydration": True,
        "aftercare_warning_signs": True,
        "needles_in": count,
        "needles_out": count,
        "sharps_disposed": True,
        **overrides,
    }
    NeedlingSession.objects.filter(pk=session.pk).update(**values)
    session.refresh_from_db()
    return session
