from django.db import models


class Region(models.TextChoices):
    """Risk regions of DOMAIN.md: points over the neck and the mid back carry real risk (pneumothorax)."""

    GENERAL = "general", "General"
    NECK = "neck", "Neck (cervical)"
    MID_BACK = "mid_back", "Mid back (thoracic, chest wall)"


# Regions whose points need an accepted, current consent for that region (DESIGN.md rule 1).
RISK_REGIONS = (Region.NECK, Region.MID_BACK)
