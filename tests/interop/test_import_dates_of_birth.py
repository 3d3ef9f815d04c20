"""The import holds the registry's date of birth rule (not in the future, not more than 120 years ago) on
every row, at its exact bounds, though it checks most dates without asking the validator each time
(imports.Births)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from interop.models import ImportBatch, StagedPatient

from .conftest import upload

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

ROWS = {
    2: "2026-03-02",  # tomorrow
    3: "2026-03-01",  # today
    4: "1906-03-01",  # exactly 120 years ago
    5: "1906-02-28",  # a day more
    6: "1907-01-01",  # the first day the quick check passes alone
    7: "1906-12-31",  # the day before it: the validator decides
}


def test_the_date_of_birth_rule_holds_at_its_bounds(admin_client, clinic):
    lines = ["Patient Number,First Name,Last Name,Birth Date"]
    lines += [f"{line},Given{line},Family,{born}" for line, born in ROWS.items()]
    with time_machine.travel(datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("America/Vancouver")), tick=False):
        assert upload(admin_client, ("\n".join(lines) + "\n").encode()).status_code == 302
    batch = ImportBatch.objects.get()
    refused = {row: reason for _kind, row, _id, reason in batch.result["refusals"]}
    assert set(refused) == {2, 5}
    assert "cannot be in the future" in refused[2]
    assert "older than 120" in refused[5]
    staged = StagedPatient.objects.filter(batch=batch, refusal="")
    assert sorted(s.line for s in staged) == [3, 4, 6, 7]
