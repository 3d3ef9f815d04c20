"""A patient's name read as plain values, for lists that show many (the day view's cells, My day's drafts)
without building a Patient for each: the same display rules as the model, not a copy of them."""

from dataclasses import dataclass

from .models import Patient


@dataclass(frozen=True, slots=True)
class PatientName:
    family_name: str
    given_name: str
    preferred_name: str

    # The one rule of which given name the clinic shows (Patient.display_given_name).
    display_given_name = property(Patient.display_given_name.fget)
