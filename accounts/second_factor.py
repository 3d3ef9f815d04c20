"""The second factor: an authenticator app (TOTP), ten single-use recovery codes, and passkeys.

Physiotherapists, managers and administrators need one to use any page past the login (the admin site
included); the front desk needs one when SECOND_FACTOR_FRONT_DESK is on, or once they enrolled one
themselves. django-otp keeps the devices and marks the session verified (request.user.is_verified());
accounts.access.AccessMiddleware sends a person who has not passed it to enrol or to type a code.
Every enrolment, success, failure and reset is an audit event; a wrong code is a failed sign-in that
the lockout counts with the wrong passwords (accounts/lockout.py).
"""

import base64
import secrets

import segno
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.helpers import WebAuthnHelper

from audit.models import Action
from audit.services import audited_transaction, record

from . import lockout
from .models import Role

RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# The session remembers that a front desk member without a device was let through (no query per page).
WAIVED_SESSION_KEY = "second_factor_waived"


class CodeRefused(Exception):
    """A code that did not match, or an address locked by too many failed sign-ins."""

    def __init__(self, message, *, locked=False):
        super().__init__(message)
        self.message = message
        self.locked = locked


def required_for(user):
    """Whether this person must pass a second factor (by role; the front desk only when the clinic
    turns it on)."""
    if user.role in (Role.PHYSIO, Role.MANAGER, Role.ADMIN):
        return True
    return user.role == Role.FRONT_DESK and settings.SECOND_FACTOR_FRONT_DESK


def pending(request):
    """What stands between this signed-in person and the pages: None (nothing), "enrol" (no device yet
    and one is required) or "verify" (a code or passkey is due)."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return None
    if request.session.get(WAIVED_SESSION_KEY) and not required_for(user):
        return None
    if not hasattr(request, "_second_factor_has_device"):
        request._second_factor_has_device = user_has_device(user)
    if not request._second_factor_has_device:
        if required_for(user):
            return "enrol"
        request.session[WAIVED_SESSION_KEY] = True
        return None
    return "verify"


# --- the authenticator app -------------------------------------------------------------------------------
def authenticator_being_set_up(user):
    """The unconfirmed authenticator the enrolment page shows as a QR code (made once, kept until
    confirmed, so a reload shows the same code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_in_base32(device):
    """The key as an authenticator app takes it when typed rather than scanned."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def qr_code_svg(device):
    """The otpauth:// URL of the device as an inline SVG QR code, drawn here (no third-party service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def confirm_authenticator(request, device, code):
    """Confirm a new authenticator with a code it shows, issue recovery codes, and mark this session
    verified. Returns the recovery codes (shown once). Refuses a code that does not match (CodeRefused;
    counted by the lockout like a wrong password)."""
    user = request.user
    # The failure's audit row must be committed before the refusal is raised (it is what the lockout
    # counts), so the refusal leaves the locked transaction as a value, not an exception.
    with lockout.attempt(user.email):
        refused = locked_refusal(request)
        if refused is None and not device.verify_token(normalise_code(code)):
            fail(request, device)
            refused = CodeRefused("That code does not match. Type the six digits your app shows now.")
        if refused is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # One authenticator at a time: enrolling again replaces the earlier one.
            TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
            codes = new_recovery_codes(user, request=request)
            otp_login(request, device)
            record(Action.MFA_ENROL, request=request, obj=device, detail="authenticator app enrolled")
    if refused is not None:
        raise refused
    return codes


def new_recovery_codes(user, *, request=None):
    """Ten new single-use recovery codes; any earlier ones stop working."""
    with audited_transaction():
        device, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": RECOVERY_NAME})
        device.confirmed = True
        device.save()
        device.token_set.all().delete()
        codes = [format_recovery_code(secrets.token_hex(5)) for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        record(Action.MFA_ENROL, request=request, user=user, obj=device, detail="ten new recovery codes")
    return codes


def format_recovery_code(raw):
    return f"{raw[:5]}-{raw[5:]}"


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise_code(code):
    """What a person types: spaces dropped; a recovery code in lower case with its dash."""
    code = "".join(str(code or "").split()).lower()
    if len(code) == 10 and "-" not in code:
        code = format_recovery_code(code)
    return code[:20]


# --- verifying at login ---------------------------------------------------------------------------------
def locked_refusal(request):
    """A CodeRefused (audited) when the address is locked now, else None."""
    status = lockout.status(request.user.email)
    if status.locked:
        lockout.record_failure(
            request.user.email, request=request, locked=True, object_type=lockout.SECOND_FACTOR
        )
        return CodeRefused(locked_message(status), locked=True)
    return None


def locked_message(status):
    minutes = status.minutes_left()
    return (
        "Too many failed sign-ins for this address. Try again in "
        f"{minutes} minute{'' if minutes == 1 else 's'}, or reset your password."
    )


def fail(request, device=None):
    lockout.record_failure(
        request.user.email,
        request=request,
        object_type=lockout.SECOND_FACTOR,
        object_id=device.persistent_id if device is not None else "",
    )


def verify_code(request, code):
    """Mark this session verified with a code from the authenticator app or a recovery code (used up).
    Refuses a wrong code (CodeRefused, counted by the lockout) and any code while the address is locked
    (CodeRefused with locked=True: the caller ends the half-open session)."""
    user = request.user
    code = normalise_code(code)
    with lockout.attempt(user.email):
        refused = locked_refusal(request)
        matched = None
        if refused is None and code:
            for device in devices_for_user(user, for_verify=True):
                if isinstance(device, TOTPDevice | StaticDevice) and device.verify_token(code):
                    matched = device
                    break
        if refused is None and matched is None:
            fail(request)
            after = lockout.status(user.email)
            refused = (
                CodeRefused(locked_message(after), locked=True)
                if after.locked
                else CodeRefused(
                    "That code does not match. Type the code your app shows now, or a recovery code."
                )
            )
        if refused is None:
            otp_login(request, matched)
            kind = "recovery code" if isinstance(matched, StaticDevice) else "authenticator app"
            if isinstance(matched, StaticDevice):
                kind += f"; {recovery_codes_left(user)} recovery codes left"
            record(Action.MFA_VERIFY, request=request, obj=matched, detail=kind)
    if refused is not None:
        raise refused
    return matched


def reset_devices(user, *, by, request=None):
    """Remove every second-factor device of `user` (authenticator, recovery codes, passkeys) and end their
    sessions: they enrol again at their next login. Refuses anyone but an administrator."""
    from .sessions import end_sessions

    if not by.has_role(Role.ADMIN):
        raise PermissionError("Only an administrator resets a second factor.")
    with audited_transaction():
        removed = [str(device) for device in devices_for_user(user, confirmed=None)]
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        passkeys().objects.filter(user=user).delete()
        ended = end_sessions(user, reason="second factor reset by an administrator", request=request, by=by)
        record(
            Action.MFA_RESET,
            request=request,
            user=by,
            obj=user,
            detail=f"devices removed: {', '.join(removed) or 'none'}; {ended} sessions ended",
        )
    return removed


def passkeys():
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential


def is_verified_session(session):
    return DEVICE_ID_SESSION_KEY in session


# --- passkeys (WebAuthn) ------------------------------------------------------------------------------
def passkey_relying_party(request):
    """The relying party ID (a domain, no port) unless WEBAUTHN_RP_ID pins one."""
    return request.get_host().rsplit(":", 1)[0].strip("[]")


class PasskeyHelper(WebAuthnHelper):
    """The relying party is the host the clinic's staff reach the app at (ALLOWED_HOSTS has already
    vouched for it), so the same code serves https://clinic.example and the tests' http://localhost."""

    def get_relying_party_name(self):
        return settings.CLINIC_NAME

    def get_allowed_origins(self):
        return [f"{self.request.scheme}://{self.request.get_host()}"]


# --- the demo clinic -----------------------------------------------------------------------------------
# Documented in the README: add it to an authenticator app, or read the code from the code page, which shows
# it for demo accounts when DEBUG is on. Never used outside seed_demo.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def demo_key_hex():
    return base64.b32decode(DEMO_TOTP_SECRET).hex()


def give_demo_authenticator(user):
    """The demo user's authenticator, with the documented secret (idempotent)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_NAME, key=demo_key_hex(), confirmed=True
        )
    return device


def current_code(device):
    """The code the device's app shows now (for the demo hint and the tests)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def is_demo_device(device):
    return device is not None and device.key == demo_key_hex()
