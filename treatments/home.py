"""What treatments gives the role home pages (accounts/home.py): the physiotherapist's My day, loaded in
place from its own page; the administrator's catalogues (muscles, needle sizes)."""


def my_day_panel(request):
    return {"template": "treatments/home_my_day.html", "context": {}}


def catalogues_panel(request):
    return {"template": "treatments/home_catalogues.html", "context": {}}


def follow_ups_to_phone_panel(request):
    """The desk's list of follow-ups not answered after 48 hours: name and phone, never the answers."""
    from .followup import unanswered

    return {"template": "treatments/home_follow_ups.html", "context": {"follow_ups": unanswered()}}
