"""factory-boy factories shared by every app's tests. Each app adds its own below its heading."""

from datetime import date, timedelta

import factory
from django.contrib.auth.hashers import make_password

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


# --- consent ----------------------------------------------------------------------------------------


# --- appointments -----------------------------------------------------------------------------------


# --- treatments -------------------------------------------------------------------------------------
