import io
import random

from accounts.management.commands.seed_demo import Demo
from reports import demo
from reports.models import SessionSummary


def test_the_demo_seed_recounts_summaries_a_bulk_load_left_behind(clinic):
    expected = sorted(SessionSummary.objects.values_list("session_id", "points"))
    SessionSummary.objects.filter(session_id=clinic.sessions["ben"].pk).delete()
    assert demo.out_of_step()
    out = io.StringIO()
    demo.seed(Demo(size=0, rng=random.Random(1), stdout=out))
    assert sorted(SessionSummary.objects.values_list("session_id", "points")) == expected
    assert "recounted" in out.getvalue()
    assert not demo.out_of_step()
