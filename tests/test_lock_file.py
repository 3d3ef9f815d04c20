"""requirements.lock, which `make` installs from, pins every dependency pyproject.toml declares, within
its range, each with hashes (docs/security.md: a changed or substituted package file is refused)."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins():
    text = (ROOT / "requirements.lock").read_text()
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\;]+)", block)
        if match:
            found[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash=sha256:"))
    return found


def declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"] + project["optional-dependencies"]["dev"]]


def test_every_declared_dependency_is_pinned_within_its_range():
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, (
            f"{requirement.name} is in pyproject.toml but not in requirements.lock: make lock"
        )
        version = pinned[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement.specifier}"
        )


def test_every_pin_carries_hashes_and_no_local_index():
    pinned = pins()
    assert len(pinned) > 50
    assert all(hashes > 0 for _version, hashes in pinned.values())
    text = (ROOT / "requirements.lock").read_text()
    assert "--find-links" not in text and "--extra-index-url" not in text and "file://" not in text


def test_make_installs_from_the_lock_with_hashes_required():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile
    assert "pip install --quiet -e" not in makefile
