"""What patients gives the role home pages (accounts/home.py): the front desk's search and register panel."""


def search_panel(request):
    return {"template": "patients/home_search.html", "context": {}}
