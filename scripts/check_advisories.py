#!/usr/bin/env python3
"""Check every installed Python distribution and every npm package of package-lock.json against
the advisory list kept in ``security/advisories.json`` — offline, as police intranets are.

    python scripts/check_advisories.py            # exit 1 and list each match, else print a summary
    python scripts/check_advisories.py --refresh  # where the internet is reachable: rebuild the list

The list is in OSV's format (https://ossf.github.io/osv-schema/). ``--refresh`` downloads OSV's
export of the PyPI and npm ecosystems and keeps the advisories that name one of our dependencies
(every installed distribution and every package of the lock file), so the stored file stays small.
Run it on a machine with internet access, review the diff and commit it; ``make test`` then checks
against the committed list on machines without internet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
ADVISORIES = ROOT / "security" / "advisories.json"
LOCK = ROOT / "package-lock.json"
OSV_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"


def installed() -> Iterator[tuple[str, str, str]]:
    """(ecosystem, canonical name, version) of every dependency in use."""
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            yield "PyPI", canonicalize_name(name), dist.version
    if LOCK.exists():
        for path, package in json.loads(LOCK.read_text(encoding="utf-8")).get("packages", {}).items():
            if path.startswith("node_modules/") and "version" in package:
                yield "npm", path.rsplit("node_modules/", 1)[1], package["version"]


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def in_range(version: str, events: list[dict]) -> bool:
    """OSV ECOSYSTEM range semantics: affected when introduced ≤ version < fixed (or ≤ last_affected)
    for one of the intervals the events open and close, in order."""
    current = _version(version)
    if current is None:
        return False
    start: Version | None = None
    for event in events:
        if "introduced" in event:
            start = Version("0") if event["introduced"] == "0" else _version(event["introduced"])
        elif start is not None and "fixed" in event:
            end = _version(event["fixed"])
            if end is not None and start <= current < end:
                return True
            start = None
        elif start is not None and "last_affected" in event:
            end = _version(event["last_affected"])
            if end is not None and start <= current <= end:
                return True
            start = None
    return start is not None and current >= start


def matches(advisories: Iterable[dict], packages: Iterable[tuple[str, str, str]]) -> list[str]:
    """One line per (package, advisory) where the installed version is affected."""
    by_name: dict[tuple[str, str], str] = {(eco, name): version for eco, name, version in packages}
    found = []
    for advisory in advisories:
        for affected in advisory.get("affected", []):
            package = affected.get("package", {})
            ecosystem = package.get("ecosystem", "")
            name = package.get("name", "")
            key = (ecosystem, canonicalize_name(name) if ecosystem == "PyPI" else name)
            version = by_name.get(key)
            if version is None:
                continue
            hit = version in affected.get("versions", []) or any(
                in_range(version, r.get("events", [])) for r in affected.get("ranges", []) if r.get("type") != "GIT"
            )
            if hit:
                found.append(f"{name} {version}: {advisory['id']} — {advisory.get('summary', '')}")
    return found


def refresh() -> int:
    """Rebuild the stored list from OSV's ecosystem exports (needs the internet)."""
    wanted = {(eco, name) for eco, name, _v in installed()}
    kept = []
    for ecosystem in ("PyPI", "npm"):
        with urllib.request.urlopen(OSV_EXPORT.format(ecosystem=ecosystem), timeout=120) as response:
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        for member in archive.namelist():
            entry = json.loads(archive.read(member))
            names = {
                (
                    a["package"]["ecosystem"],
                    canonicalize_name(a["package"]["name"]) if ecosystem == "PyPI" else a["package"]["name"],
                )
                for a in entry.get("affected", [])
                if "package" in a
            }
            if names & wanted and not entry.get("withdrawn"):
                kept.append(
                    {
                        "id": entry["id"],
                        "summary": entry.get("summary", ""),
                        "affected": [
                            {"package": a["package"], "ranges": a.get("ranges", []), "versions": a.get("versions", [])}
                            for a in entry.get("affected", [])
                        ],
                    }
                )
    stored = json.loads(ADVISORIES.read_text(encoding="utf-8"))
    stored.update(
        refreshed=dt.date.today().isoformat(),
        source="OSV ecosystem exports (PyPI, npm), filtered to this project's dependencies",
        advisories=sorted(kept, key=lambda a: a["id"]),
    )
    ADVISORIES.write_text(json.dumps(stored, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"stored {len(kept)} advisories for {len(wanted)} dependencies in {ADVISORIES.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true", help="rebuild the list from OSV (needs the internet)")
    args = parser.parse_args(argv)
    if args.refresh:
        return refresh()
    stored = json.loads(ADVISORIES.read_text(encoding="utf-8"))
    packages = list(installed())
    found = matches(stored["advisories"], packages)
    for line in found:
        print(f"VULNERABLE {line}")
    print(
        f"advisories: {len(packages)} packages checked against {len(stored['advisories'])} advisories "
        f"(list of {stored['refreshed']}): {len(found)} affected"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
