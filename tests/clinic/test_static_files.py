"""Every static file that names a source map ships it: otherwise collectstatic with the manifest
storage fails and production pages answer 500 (static/vendor/README.md)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_MAP = re.compile(rb"sourceMappingURL=([^\s*]+)")


def test_no_static_file_names_a_source_map_that_is_not_there():
    named = []
    for path in (ROOT / "static").rglob("*"):
        if path.suffix in {".js", ".css"}:
            for target in SOURCE_MAP.findall(path.read_bytes()):
                if not (path.parent / target.decode()).exists():
                    named.append(f"{path.relative_to(ROOT)} -> {target.decode()}")
    assert named == []
