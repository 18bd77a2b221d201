"""Which profile (production type), stage, position, threshold overrides, TAN test and outdoor node a site has.

Sources, first match wins: the sites YAML given with `--sites` (format in docs/analytics.md), the
fleet registry (`--registry-url`, read through its public query modules, never the API; looked up
again every `REFRESH_S` so new overrides apply), and last a profile named by a token of the site slug
(`hk-pond-1` → fish_pond), so a simulated district works without configuration. A site with no
profile gets sensor-fault and node alerts only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from analytics.derived import DEFAULT_LAT, DEFAULT_LON
from contract.quantities import QUANTITIES
from contract.topics import is_slug
from ruongso import profiles
from ruongso.logs import event

log = logging.getLogger("analytics.sites")

SLUG_TOKENS: Final[dict[str, str]] = {
    "pond": "fish_pond", "ao": "fish_pond", "fish": "fish_pond",
    "rice": "rice_paddy", "lua": "rice_paddy", "paddy": "rice_paddy",
    "veg": "vegetable_open", "rau": "vegetable_open", "vegetable": "vegetable_open",
    "net": "net_house", "nethouse": "net_house", "greenhouse": "net_house",
    "pig": "pig_barn", "heo": "pig_barn", "lon": "pig_barn",
    "poultry": "poultry_barn", "ga": "poultry_barn", "chicken": "poultry_barn",
    "lychee": "lychee_orchard", "vai": "lychee_orchard",
}
THRESHOLD_KEYS: Final = ("warn_low", "warn_high", "crit_low", "crit_high", "min_duration_s")
REFRESH_S: Final = 60.0


class SitesError(ValueError):
    """The sites file is unusable; the message names the file, the site and the bad field."""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    site: str
    profile: str | None
    stage: str | None = None
    lat: float = DEFAULT_LAT
    lon: float = DEFAULT_LON
    overrides: dict[str, dict[str, float | None]] = field(default_factory=dict)
    tan_mg_l: float | None = None  # a pond's last total-ammonia-nitrogen test (kit), for the UIA rules
    outdoor_node: str | None = None  # the site's outdoor reference node (rule function `outside`)


def guess_profile(site: str) -> str | None:
    for token in site.split("-"):
        if token in SLUG_TOKENS:
            return SLUG_TOKENS[token]
    return None


def _site_from_doc(path: str, slug: str, doc: Any) -> SiteConfig:
    if not isinstance(doc, dict):
        raise SitesError(f"{path}: site {slug!r} must be a mapping")
    profile = doc.get("profile")
    if profile is not None and profile not in profiles.profile_ids():
        known = ", ".join(profiles.profile_ids())
        raise SitesError(f"{path}: site {slug!r}: unknown profile {profile!r}; known: {known}")
    overrides: dict[str, dict[str, float | None]] = {}
    for q, th in (doc.get("overrides") or {}).items():
        if q not in QUANTITIES or not isinstance(th, dict):
            raise SitesError(f"{path}: site {slug!r}: override {q!r} is not a quantity with thresholds")
        for k, v in th.items():
            if k not in THRESHOLD_KEYS or not (v is None or isinstance(v, int | float)):
                raise SitesError(f"{path}: site {slug!r}: override {q}.{k}={v!r} (keys: {', '.join(THRESHOLD_KEYS)})")
        overrides[q] = {k: (None if v is None else float(v)) for k, v in th.items()}
    try:
        lat = float(doc.get("lat", DEFAULT_LAT))
        lon = float(doc.get("lon", DEFAULT_LON))
    except (TypeError, ValueError):
        raise SitesError(f"{path}: site {slug!r}: lat/lon must be numbers") from None
    stage = doc.get("stage")
    tan = doc.get("tan_mg_l")
    if tan is not None and (not isinstance(tan, int | float) or isinstance(tan, bool) or tan < 0):
        raise SitesError(f"{path}: site {slug!r}: tan_mg_l must be a non-negative number (mg/L)")
    outdoor = doc.get("outdoor_node")
    if outdoor is not None and not is_slug(outdoor):
        raise SitesError(f"{path}: site {slug!r}: outdoor_node {outdoor!r} is not a node slug")
    return SiteConfig(slug, profile, str(stage) if stage is not None else None, lat, lon, overrides,
                      None if tan is None else float(tan), outdoor)


def load_sites_file(path: str) -> dict[str, SiteConfig]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SitesError(f"cannot read sites file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SitesError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    sites = doc.get("sites") if isinstance(doc, dict) else None
    if not isinstance(sites, dict):
        raise SitesError(f"{path}: expected a mapping 'sites: {{<slug>: {{profile: …}}}}'")
    return {slug: _site_from_doc(path, slug, d) for slug, d in sites.items()}


def registry_lookup(url: str) -> Callable[[str], dict[str, Any] | None]:
    """Site documents from the fleet registry at `url` (read-only use of its query modules)."""
    from registry.db import NotFound, RegistryError, connect, is_postgresql, now_ms, sqlite_path
    from registry.overrides import list_overrides
    from registry.sites import get_site, tan_is_fresh

    try:
        if not is_postgresql(url) and not sqlite_path(url).exists():
            raise SitesError(f"registry {url} does not exist (create it with `ruongso site add`)")
        conn = connect(url)
    except RegistryError as exc:
        raise SitesError(str(exc)) from None

    def lookup(slug: str) -> dict[str, Any] | None:
        try:
            site = get_site(conn, slug)
        except NotFound:
            return None
        doc: dict[str, Any] = {"profile": site.profile}
        if site.lat is not None and site.lon is not None:
            doc["lat"], doc["lon"] = site.lat, site.lon
        # An override replaces the profile's four thresholds of its quantity (None: no alert that side).
        doc["overrides"] = {
            o.quantity: {"warn_low": o.warn_low, "warn_high": o.warn_high, "crit_low": o.crit_low,
                         "crit_high": o.crit_high}
            for o in list_overrides(conn, slug)
        }
        # The keys a sites file would give; a TAN test past registry.sites.TAN_MAX_AGE_MS is left out, so the
        # ammonia rules go unjudged (as with no test) rather than judged on an old pond. SiteDirectory looks
        # again every REFRESH_S, so a test turns stale, and a new stage arrives, within that.
        if site.stage is not None:
            doc["stage"] = site.stage
        if tan_is_fresh(site, now_ms()):
            doc["tan_mg_l"] = site.tan_mg_l
        if site.outdoor_node is not None:
            doc["outdoor_node"] = site.outdoor_node
        return doc

    return lookup


class SiteDirectory:
    def __init__(
        self, sites_file: str | None = None, registry: Callable[[str], dict[str, Any] | None] | None = None
    ) -> None:
        self.configured = load_sites_file(sites_file) if sites_file else {}
        self._registry = registry
        self._cache: dict[str, tuple[SiteConfig, float]] = {}

    def get(self, site: str) -> SiteConfig:
        hit = self._cache.get(site)
        now = time.monotonic()
        if hit is not None and (self._registry is None or now - hit[1] < REFRESH_S):
            return hit[0]
        cfg = self.configured.get(site) or self._from_registry(site) or SiteConfig(site, guess_profile(site))
        self._cache[site] = (cfg, now)
        if hit is None or hit[0] != cfg:
            event(log, "site_profile", site=site, profile=cfg.profile or "-", stage=cfg.stage or "-",
                  overrides=",".join(cfg.overrides) or "-")
        return cfg

    def _from_registry(self, site: str) -> SiteConfig | None:
        if self._registry is None:
            return None
        try:
            doc = self._registry(site)
        except Exception as exc:  # a registry problem must not stop the alerts of other sites
            event(log, "registry_error", logging.WARNING, site=site, error=str(exc)[:200])
            return None
        if not doc:
            return None
        try:
            return _site_from_doc("registry", site, doc)
        except SitesError as exc:
            event(log, "registry_site_invalid", logging.WARNING, site=site, error=str(exc))
            return None
