"""The apps import one another in one direction only (docs/architecture.md).

Every module of every app is parsed (``ast``); each ``import`` and ``from … import`` naming
another app counts, at module level or inside a function alike. An app may import the apps on
lower levels, never one on its own level or above. Tests, benches, chaos scenarios and migrations
are not part of the apps and are not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lower levels first; an app imports only apps on a lower level (docs/architecture.md).
LEVELS: dict[str, int] = {
    "units": 0,
    "intake": 1,
    "sms": 2,
    "feeds": 2,
    "workorders": 3,
    "surveys": 4,
    "analytics": 5,
    "alerts": 6,
    "routing": 6,
}

# Edges that run against the direction today and are being removed, each with its reason.
ALLOWED: dict[tuple[str, str], str] = {}

EXCLUDED_PARTS = {"migrations", "tests", "__pycache__"}


def _app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in LEVELS else None


def _imports(path: Path):
    """(line, module) of every absolute import in the file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _allowed(app: str, module: str) -> bool:
    return any(app == source and (module == target or module.startswith(target + ".")) for source, target in ALLOWED)


def violations() -> list[str]:
    found = []
    for app, level in LEVELS.items():
        folder = ROOT / app
        for path in sorted(folder.rglob("*.py")):
            if EXCLUDED_PARTS & set(path.relative_to(ROOT).parts):
                continue
            for line, module in _imports(path):
                other = _app_of(module)
                if other is None or other == app or LEVELS[other] < level:
                    continue
                if _allowed(app, module):
                    continue
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({app} → {other})")
    return found


def test_no_app_imports_an_app_on_its_level_or_above():
    assert violations() == []


def test_the_allowances_are_still_needed():
    """An allowance whose import is gone must be deleted, so the list only shrinks."""
    used = set()
    for app in LEVELS:
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in folder.rglob("*.py"):
            if EXCLUDED_PARTS & set(path.relative_to(ROOT).parts):
                continue
            for _line, module in _imports(path):
                for source, target in ALLOWED:
                    if app == source and (module == target or module.startswith(target + ".")):
                        used.add((source, target))
    assert set(ALLOWED) == used


def test_the_checker_sees_function_level_imports(tmp_path, monkeypatch):
    """A late import inside a function counts as much as one at the top of the module."""
    app = tmp_path / "units"
    app.mkdir()
    (app / "late.py").write_text("def f():\n    from routing import services\n    return services\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert violations() == ["units/late.py:2 imports routing (units → routing)"]
