"""What a person types on the public booking page, for the online booking tests (the `clinic` fixture of
tests/appointments/conftest.py is the world they book in)."""

from datetime import date


def details(**overrides):
    """What a person types on the public page (the known patient's details unless overridden)."""
    return {
        "given_name": "Zoë",
        "family_name": "Lévesque",
        "date_of_birth": date(1980, 5, 17),
        "email": "zoe@example.com",
        "phone": "+16045550123",
        "client_address": "203.0.113.7",
        **overrides,
    }
