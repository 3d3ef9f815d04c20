"""Demo staff: one login per role, printed by `make run`."""

from datetime import date

from .models import ClinicianProfile, Role, User
from .second_factor import give_demo_authenticator, required_for

DEMO_PASSWORD = "ims-demo-password"
DEMO_STAFF = [
    ("physio@demo.imsclinic.test", "Priya Natarajan", Role.PHYSIO, "PT-10482"),
    ("physio2@demo.imsclinic.test", "Daniel Okafor", Role.PHYSIO, "PT-11937"),
    ("intern@demo.imsclinic.test", "Sam Lee (intern, not authorised)", Role.PHYSIO, "PT-20077"),
    ("desk@demo.imsclinic.test", "Maria Santos", Role.FRONT_DESK, None),
    ("manager@demo.imsclinic.test", "Grace Whitfield", Role.MANAGER, None),
    ("admin@demo.imsclinic.test", "Alex Chen", Role.ADMIN, None),
]


def seed(demo):
    staff = {}
    for email, name, role, registration in DEMO_STAFF:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, role=role)
        staff[email] = user
        # The documented demo secret (README): make run works at once, the code page shows the code. The
        # front desk logs in with the password alone, as by default (SECOND_FACTOR_FRONT_DESK).
        if required_for(user):
            give_demo_authenticator(user)
        if registration and not hasattr(user, "clinician_profile"):
            authorised = not email.startswith("intern")
            ClinicianProfile.objects.create(
                user=user,
                registration_number=registration,
                needling_authorised_on=date(2019, 3, 1) if authorised else None,
            )
    demo.shared["staff"] = staff
    demo.shared["physiotherapists"] = [u for u in staff.values() if u.role == Role.PHYSIO]
