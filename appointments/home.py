"""What appointments gives the role home pages (accounts/home.py): the front desk's schedule of today,
loaded in place from its own page."""


def today_panel(request):
    return {"template": "appointments/home_today.html", "context": {}}
