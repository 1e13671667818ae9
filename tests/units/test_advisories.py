"""The offline dependency-advisory check that ``make test`` runs (scripts/check_advisories.py)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_advisories", ROOT / "scripts" / "check_advisories.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

ADVISORIES = json.loads((ROOT / "security" / "advisories.json").read_text(encoding="utf-8"))["advisories"]


def test_it_flags_a_version_inside_an_advisory_range():
    found = check.matches(ADVISORIES, [("PyPI", "django", "5.2.5")])
    assert any("CVE-2025-57833" in line for line in found)
    assert any("CVE-2025-64459" in line for line in found)


def test_it_passes_a_fixed_version_and_other_branches():
    assert check.matches(ADVISORIES, [("PyPI", "django", "5.2.8")]) == []
    assert not any("CVE-2024-42005" in line for line in check.matches(ADVISORIES, [("PyPI", "django", "5.2.5")]))


def test_it_reads_osv_range_events():
    events = [{"introduced": "1.0"}, {"fixed": "1.4"}, {"introduced": "2.0"}, {"last_affected": "2.1"}]
    assert [check.in_range(v, events) for v in ("0.9", "1.0", "1.3.9", "1.4", "2.0", "2.1", "2.1.1")] == [
        False, True, True, False, True, True, False,
    ]  # fmt: skip
    assert check.in_range("0.1", [{"introduced": "0"}, {"fixed": "1.0"}])


def test_it_matches_npm_packages_by_exact_name():
    advisory = {"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "htmx.org"}, "versions": ["2.0.1"]}]}
    assert check.matches([advisory], [("npm", "htmx.org", "2.0.1")]) == ["htmx.org 2.0.1: X-1 — "]
    assert check.matches([advisory], [("npm", "htmx.org", "2.0.11"), ("PyPI", "htmx-org", "2.0.1")]) == []


def test_the_installed_dependencies_have_no_known_advisory():
    assert check.main([]) == 0
