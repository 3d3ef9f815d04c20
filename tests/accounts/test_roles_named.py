"""Roles are compared through accounts.roles.Role, never a raw string (STYLE.md "Names"): a renamed role
value would otherwise leave a comparison silently false."""

import ast
import re
from pathlib import Path

from accounts.roles import Role

ROOT = Path(__file__).resolve().parents[2]
ROLE_VALUES = set(Role.values)
SKIPPED = {".venv", "var", "tests", "migrations", "node_modules", ".git"}
TEMPLATE_COMPARISON = re.compile(r"""role\s*(==|!=|in)\s*["']""")


def project_files(suffix):
    for path in ROOT.rglob(f"*{suffix}"):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path


def raw_role_strings(node):
    """The role values written as string literals in a comparison, a role check's arguments or a list
    of roles."""
    if isinstance(node, ast.Compare):
        candidates = [node.left, *node.comparators]
    elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
        "has_role",
        "role_required",
    }:
        candidates = node.args
    elif isinstance(node, ast.Tuple | ast.List | ast.Set) and all(is_role_value(e) for e in node.elts):
        candidates = node.elts  # a list of roles, as navigation entries declare them
    else:
        return []
    found = []
    for candidate in candidates:
        elements = candidate.elts if isinstance(candidate, ast.Tuple | ast.List | ast.Set) else [candidate]
        found += [element.value for element in elements if is_role_value(element)]
    return found


def is_role_value(node):
    return isinstance(node, ast.Constant) and node.value in ROLE_VALUES


def test_no_python_module_compares_a_role_with_a_raw_string():
    offenders = []
    for path in project_files(".py"):
        if path == ROOT / "accounts" / "roles.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            offenders += [f"{where} {value!r}" for value in raw_role_strings(node)]
    assert offenders == []


def test_no_template_compares_a_role_with_a_raw_string():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in project_files(".html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TEMPLATE_COMPARISON.search(line)
    ]
    assert offenders == []
