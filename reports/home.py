"""What reports gives the role home pages (accounts/home.py): the clinic manager's open incidents banner,
last 30 days' figures ({% manager_summary %}) and the links to the reports."""


def manager_panel(request):
    return {"template": "reports/home_manager.html", "context": {}}
