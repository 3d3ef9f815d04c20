"""The staff roles. Apart from accounts.models (which re-exports them) so that AppConfigs can name the
roles of their navigation entries before the app registry is ready."""

from django.db import models


class Role(models.TextChoices):
    PHYSIO = "physiotherapist", "Physiotherapist"
    FRONT_DESK = "front_desk", "Front desk"
    MANAGER = "manager", "Clinic manager"
    ADMIN = "administrator", "Administrator"


# Roles that may read clinical content (DESIGN.md: front desk sees demographics only).
CLINICAL_ROLES = (Role.PHYSIO, Role.ADMIN)
