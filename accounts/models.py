from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .roles import CLINICAL_ROLES, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("Staff accounts need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("is_superuser", True)
        if fields["role"] != Role.ADMIN:
            raise ValueError("A superuser must hold the administrator role.")
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of staff. One role each: what a person may do follows from what they are hired as."""

    email = models.EmailField("e-mail", unique=True)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name", "role"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_known"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").lower()
        super().save(*args, **kwargs)

    @property
    def is_staff(self):
        """Django's admin is the administrator's room and nobody else's."""
        return self.is_active and self.role == Role.ADMIN

    def has_perm(self, perm, obj=None):
        # The administrator role manages staff, consent forms and catalogues through the admin; what no
        # one may do (edit signed records, delete clinical rows) is refused by models and the database.
        if self.is_active and self.role == Role.ADMIN:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        if self.is_active and self.role == Role.ADMIN:
            return True
        return super().has_module_perms(app_label)

    def has_role(self, *roles):
        return self.is_active and self.role in roles

    @property
    def is_clinical(self):
        return self.has_role(*CLINICAL_ROLES)

    def may_needle(self, on=None):
        """True when this is an active physiotherapist with a needling authorisation covering the day
        `on` (a date, an aware datetime, or today): DESIGN.md rule 4."""
        if not self.has_role(Role.PHYSIO):
            return False
        profile = getattr(self, "clinician_profile", None)
        if on is not None and hasattr(on, "tzinfo") and hasattr(on, "hour"):
            on = timezone.localdate(on)
        return profile is not None and profile.needling_authorised(on)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


def needling_authorised_q(day, prefix=""):
    """The Q selecting users (through `prefix`, e.g. "therapist__") who may needle on `day`: active
    physiotherapists whose authorisation has begun and not lapsed (the same test as may_needle)."""
    return models.Q(
        **{
            f"{prefix}role": Role.PHYSIO,
            f"{prefix}is_active": True,
            f"{prefix}clinician_profile__needling_authorised_on__lte": day,
        }
    ) & (
        models.Q(**{f"{prefix}clinician_profile__needling_authorisation_expires__isnull": True})
        | models.Q(**{f"{prefix}clinician_profile__needling_authorisation_expires__gte": day})
    )


class ClinicianProfile(models.Model):
    """A physiotherapist's registration and needling authorisation (BC: the College's IMS/DN roster)."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="clinician_profile")
    registration_number = models.CharField(max_length=40, unique=True)
    regulator = models.CharField(max_length=120, default="College of Health and Care Professionals of BC")
    needling_authorised_on = models.DateField(
        null=True, blank=True, help_text="Date the regulator placed the clinician on the needling roster."
    )
    needling_authorisation_expires = models.DateField(
        null=True, blank=True, help_text="Leave blank when the authorisation does not lapse."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(needling_authorisation_expires__isnull=True)
                | models.Q(
                    needling_authorised_on__isnull=False,
                    needling_authorisation_expires__gte=models.F("needling_authorised_on"),
                ),
                name="authorisation_expiry_after_grant",
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.registration_number})"

    def clean(self):
        if self.needling_authorisation_expires and not self.needling_authorised_on:
            raise ValidationError(
                {"needling_authorised_on": "An expiry needs the date the authorisation was granted."}
            )
        if (
            self.needling_authorisation_expires
            and self.needling_authorised_on
            and self.needling_authorisation_expires < self.needling_authorised_on
        ):
            raise ValidationError(
                {"needling_authorisation_expires": "The expiry cannot come before the grant."}
            )

    def needling_authorised(self, on=None):
        """True when the clinician may needle on the given day (today by default)."""
        on = on or timezone.localdate()
        if not self.user.is_active or self.needling_authorised_on is None:
            return False
        if self.needling_authorised_on > on:
            return False
        return self.needling_authorisation_expires is None or self.needling_authorisation_expires >= on


class StaffSession(AbstractBaseSession):
    """A login: Django's database session plus whose it is and where it started, so that a person can see
    and end their other sessions, and a password change or a deactivation ends all of them
    (accounts/sessions.py)."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expire_date"], name="staff_session_user_idx")]

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore
