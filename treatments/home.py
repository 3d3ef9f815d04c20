"""What treatments gives the role home pages (accounts/home.py): the physiotherapist's My day, loaded in
place from its own page; the administrator's catalogues (muscles, needle sizes)."""


def my_day_panel(request):
    return {"template": "treatments/home_my_day.html", "context": {}}


def catalogues_panel(request):
    return {"template": "treatments/home_catalogues.html", "context": {}}
