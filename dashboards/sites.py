"""Write the `site_info` points the overview map and the per-type boards read (dashboards/layout_names.py).

Input: a YAML list of sites as the registry knows them,

    - {site: tu-ky-lua-01, profile: rice_paddy, lat: 20.82, lon: 106.40, name: "Ruộng lúa HTX Tứ Kỳ"}

or the manifest `ruongso sim --manifest FILE` writes (a JSON object whose `sites` items carry `name_vi`),
validated (slugs, known profile, coordinates in range) before anything is written. The fleet registry's
sites go through the same `site_from` and `Site.to_line` (dashboards/registry_sites.py); the `source` field
says which wrote a point, so a registry sync removes only the sites it put on the boards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from contract.topics import is_slug
from dashboards.layout_names import SITE_INFO
from ruongso import profiles

SOURCE_FILE: Final = "file"
SOURCE_REGISTRY: Final = "registry"


class SiteError(ValueError):
    pass


def _escape(text: str) -> str:
    # Line-protocol string fields escape only backslash and double quote.
    return text.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True, slots=True)
class Site:
    site: str
    profile: str
    lat: float
    lon: float
    name: str
    source: str = SOURCE_FILE

    def to_line(self, ts_ms: int) -> str:
        return (f"{SITE_INFO},site={self.site},profile={self.profile} "
                f"lat={self.lat!r},lon={self.lon!r},name=\"{_escape(self.name)}\",source=\"{self.source}\" {ts_ms}")


def site_from(item: Any, label: str, source: str = SOURCE_FILE) -> Site:
    """One site checked (slug, known profile, coordinates in range, one-line name); `label` names it in errors."""
    if not isinstance(item, dict):
        raise SiteError(f"{label} is not a mapping")
    site, profile = item.get("site"), item.get("profile")
    if not is_slug(site):
        raise SiteError(f"{label}: {site!r} is not a slug")
    site = str(site)
    known = profiles.profile_ids()
    if profile not in known:
        raise SiteError(f"site {site}: profile {profile!r} is not one of {', '.join(sorted(known))}")
    try:
        lat, lon = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        raise SiteError(f"site {site}: lat and lon must be numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SiteError(f"site {site}: lat {lat}, lon {lon} out of range")
    name = str(item.get("name") or item.get("name_vi") or site)
    if "\n" in name or len(name) > 200:
        raise SiteError(f"site {site}: name must be one line of at most 200 characters")
    return Site(site, str(profile), lat, lon, name, source)


def parse(doc: Any) -> list[Site]:
    if isinstance(doc, dict) and "sites" in doc:
        doc = doc["sites"]
    if not isinstance(doc, list) or not doc:
        raise SiteError("expected a non-empty YAML list of sites")
    return [site_from(item, f"site #{i}") for i, item in enumerate(doc, 1)]


def load(path: Path) -> list[Site]:
    try:
        return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise SiteError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SiteError(f"{path} is not valid YAML: {exc}") from None


def lines(sites: list[Site], ts_ms: int | None = None) -> list[str]:
    ts = int(time.time() * 1000) if ts_ms is None else ts_ms
    return [s.to_line(ts) for s in sites]
