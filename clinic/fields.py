"""Model fields every app shares."""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual


class LimitedTextField(models.TextField):
    """Free text with a length limit in the form (a maxlength on the textarea and a message naming the
    limit) and in model validation (full_clean); Django's own TextField passes max_length to the form
    only. The database holds the same limit through the model's length_limits() constraints (a test
    checks that every LimitedTextField has its constraint).

    Limits are generous for what each field is for; they exist so that nobody stores megabytes in a note
    (an addendum of 100 kB was accepted before), which every page, PDF and export would then carry."""

    def __init__(self, *args, max_length, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))


def length_limits(**limits):
    """CHECK constraints `<app>_<model>_<field>_length`: char_length(field) <= limit, for Meta.constraints,
    so that imports and raw SQL meet the limit too."""
    return [
        models.CheckConstraint(
            condition=LessThanOrEqual(Length(field), limit),
            name=f"%(app_label)s_%(class)s_{field}_length",
        )
        for field, limit in limits.items()
    ]
