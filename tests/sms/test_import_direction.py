"""The SMS layer sits below the apps that use it: it imports units and intake (phones) only, never
surveys, workorders, feeds, analytics, alerts or routing (a reply reaches surveys by a signal)."""

from __future__ import annotations

import ast
from pathlib import Path

import sms

ABOVE = {"surveys", "workorders", "feeds", "analytics", "alerts", "routing"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_sms_app_imports_no_app_above_it():
    root = Path(sms.__file__).parent
    offenders = {
        str(path.relative_to(root.parent)): sorted(imported_packages(path) & ABOVE)
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and imported_packages(path) & ABOVE
    }
    assert not offenders


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from surveys.models import Rating\n", encoding="utf-8")
    assert imported_packages(module) & ABOVE == {"surveys"}
