"""Migrations replay the same way forever: none imports app code that could change under it.

A migration that imports, say, the SQL or the catalogue it installs from the app runs today's version of
that code when a database is built from scratch, not the one of its day. The only project modules a
migration may import are the ones Django's autodetector writes references to itself (`import
<app>.models` for a manager or a database function, `import <app>.validators`), and frozen migrations
(through importlib, as reports 0005 reads 0002's SQL).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = {
    "accounts",
    "appointments",
    "audit",
    "clinic",
    "consent",
    "outbox",
    "patients",
    "reports",
    "treatments",
}
MIGRATIONS = sorted(path for app in APPS for path in (ROOT / app / "migrations").glob("0*.py"))


def project_imports(tree):
    """(module, how) for every import of a project module, how being 'import', 'from' or 'importlib'."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, "import") for alias in node.names if alias.name.split(".")[0] in APPS)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in APPS:
            yield node.module, "from"
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "import_module",
            "__import__",
        }:
            argument = node.args[0] if node.args else None
            yield (argument.value if isinstance(argument, ast.Constant) else "<computed>"), "importlib"


def allowed(module, how):
    if how == "importlib":
        return module.split(".")[1:2] == ["migrations"]
    # Django itself writes references to model, field and validator classes into migrations: those are
    # names, not SQL or logic that could change what replaying the migration does.
    return how == "import" and module.rsplit(".", 1)[-1] in {"models", "fields", "validators"}


def test_there_are_migrations_to_check():
    assert len(MIGRATIONS) >= 20


@pytest.mark.parametrize("path", MIGRATIONS, ids=[f"{p.parent.parent.name}/{p.name}" for p in MIGRATIONS])
def test_a_migration_imports_no_app_code(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    wrong = [f"{how} {module}" for module, how in project_imports(tree) if not allowed(module, how)]
    assert not wrong, f"{path.relative_to(ROOT)} imports app code: {wrong}; freeze it in the migration"


def test_the_check_finds_an_import_of_app_code():
    tree = ast.parse(
        "from reports.summaries import create_sql\nimport reports.summaries\nimport accounts.models"
    )
    found = [(module, how) for module, how in project_imports(tree) if not allowed(module, how)]
    assert found == [("reports.summaries", "from"), ("reports.summaries", "import")]
