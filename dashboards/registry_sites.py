"""`site_info` kept in step with the fleet registry, so a district that registers its sites keeps no sites file.

The map takes, per (site, profile) series and without a time filter, the last value of each field
(dashboards/boards/overview.py). InfluxDB keeps old points, so:

- a moved or renamed site gets a new point stamped after the series' newest one (never before it, even if
  this machine's clock went back), which `last()` then takes;
- a site that left the registry, lost its coordinates or changed profile has its old series dropped
  (DROP SERIES needs only the database's WRITE privilege, which the services' InfluxDB account has), so
  it leaves the map and the boards' site pickers. Only series whose last point came from the registry
  (`source="registry"`) are dropped: sites loaded from a file or a simulator manifest stay.

An unchanged site is not rewritten, except once a day so a retention policy never ages it off the boards.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from dashboards.layout_names import SITE_INFO
from dashboards.sites import SOURCE_REGISTRY, Site, SiteError, site_from
from ruongso.influx import InfluxClient, InfluxError, quote_literal
from ruongso.logs import configure, event

if TYPE_CHECKING:
    from dashboards.settings import DashboardsSettings

log = logging.getLogger("dashboards.sites")

# What the map shows of each series, and who wrote it.
SHOWN: Final = (f'SELECT last("lat") AS "lat", last("lon") AS "lon", last("name") AS "name", '
                f'last("source") AS "source" FROM "{SITE_INFO}" GROUP BY "site", "profile"')
# The time of each series' newest point (one selector, so InfluxDB returns that point's time).
NEWEST: Final = f'SELECT last("lat") FROM "{SITE_INFO}" GROUP BY "site", "profile"'
REWRITE_AFTER_MS: Final = 86_400_000

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RegistrySites:
    """The registry's sites as the boards can place them, and those they cannot (named, with why)."""

    placeable: list[Site]
    without_coordinates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "slug: reason"


@dataclass(frozen=True, slots=True)
class SyncResult:
    on_map: int
    written: list[str]
    removed: list[str]


def _one_line(exc: Exception) -> str:
    # libpq's messages run over several lines (a hint on the second); a log line and an error are one.
    return " ".join(str(exc).split())


def read_registry(url: str) -> RegistrySites:
    """Every site of the registry at `url` (read only: a missing registry is an error, never created)."""
    from registry.db import DatabaseError, RegistryError, connect, is_postgresql, redacted, sqlite_path
    from registry.sites import list_sites

    try:
        if not is_postgresql(url) and not sqlite_path(url).is_file():
            raise SiteError(f"registry {url} does not exist (it is created by `ruongso site add` or the API)")
        conn = connect(url)
    except RegistryError as exc:
        raise SiteError(_one_line(exc)) from None
    except DatabaseError as exc:
        raise SiteError(f"cannot open registry {redacted(url)}: {_one_line(exc)}") from None
    try:
        sites = list_sites(conn)
    except DatabaseError as exc:
        raise SiteError(f"cannot read the sites of registry {redacted(url)}: {_one_line(exc)}") from None
    finally:
        conn.close()
    out = RegistrySites([])
    for s in sites:
        if s.lat is None or s.lon is None:
            out.without_coordinates.append(s.slug)
            continue
        item = {"site": s.slug, "profile": s.profile, "lat": s.lat, "lon": s.lon, "name": s.name}
        try:
            out.placeable.append(site_from(item, f"site {s.slug!r}", SOURCE_REGISTRY))
        except SiteError as exc:
            out.refused.append(f"{s.slug}: {exc}")
    return out


def _shown(client: InfluxClient) -> tuple[dict[Key, tuple[object, ...]], dict[Key, int]]:
    shown = {(s.tags["site"], s.tags["profile"]): tuple(s.rows()[0][k] for k in ("lat", "lon", "name", "source"))
             for s in client.query(SHOWN)}
    newest = {(s.tags["site"], s.tags["profile"]): int(s.values[0][0]) for s in client.query(NEWEST)}
    return shown, newest


def sync(client: InfluxClient, found: RegistrySites, now_ms: int) -> SyncResult:
    """Write what changed, then drop the registry's series it no longer has (nothing is dropped if writing fails)."""
    shown, newest = _shown(client)
    lines, written = [], []
    for s in found.placeable:
        key = (s.site, s.profile)
        stale = now_ms - newest.get(key, 0) >= REWRITE_AFTER_MS
        if shown.get(key) != (s.lat, s.lon, s.name, SOURCE_REGISTRY) or stale:
            lines.append(s.to_line(max(now_ms, newest.get(key, 0) + 1)))
            written.append(s.site)
    if lines:
        client.write(lines)
    wanted = {(s.site, s.profile) for s in found.placeable}
    gone = sorted(k for k, v in shown.items() if v[3] == SOURCE_REGISTRY and k not in wanted)
    for site, profile in gone:
        client.query(f'DROP SERIES FROM "{SITE_INFO}" WHERE "site" = {quote_literal(site)} '
                     f'AND "profile" = {quote_literal(profile)}')
    return SyncResult(len(wanted), written, [site for site, _ in gone])


def sync_once(s: DashboardsSettings, registry_url: str) -> tuple[RegistrySites, SyncResult]:
    """Read the registry at `registry_url` and bring `site_info` in the settings' InfluxDB in step with it."""
    found = read_registry(registry_url)
    with InfluxClient(s.influx_url, s.influx_db, s.influx_user, s.influx_password) as client:
        return found, sync(client, found, int(time.time() * 1000))


def notes(found: RegistrySites) -> list[str]:
    """What a person must know about the sites left off the boards."""
    out = []
    if found.without_coordinates:
        n = len(found.without_coordinates)
        out.append(f"note: {n} site{'s' if n > 1 else ''} without coordinates, not on the boards (the registry "
                   f"has no lat/lon for {'them' if n > 1 else 'it'}): {', '.join(found.without_coordinates)}")
    if found.refused:
        out.append(f"note: {len(found.refused)} refused, not on the boards: {'; '.join(found.refused)}")
    return out


def report_lines(s: DashboardsSettings, found: RegistrySites, result: SyncResult) -> list[str]:
    unchanged = result.on_map - len(result.written)
    removed = ", ".join(result.removed) or "none"
    sites = f"{result.on_map} registry site{'' if result.on_map == 1 else 's'}"
    return [f"{sites} on the boards in {s.influx_url} database {s.influx_db}: "
            f"{len(result.written)} written, {unchanged} unchanged; removed: {removed}", *notes(found)]


def keep_in_step(s: DashboardsSettings, registry_url: str, every_s: float) -> int:
    """Sync now and every `every_s` until SIGTERM/SIGINT; a failed round is logged and retried next round."""
    from registry.db import redacted

    configure(s.log_json, s.log_level)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    event(log, "site_info_sync_started", registry=redacted(registry_url), every_s=every_s)
    last: tuple[object, ...] | None = None
    while True:
        try:
            found, result = sync_once(s, registry_url)
            said: tuple[object, ...] = (found.without_coordinates, found.refused)
            if result.written or result.removed or said != last:
                event(log, "site_info_synced", on_map=result.on_map, written=",".join(result.written) or "-",
                      removed=",".join(result.removed) or "-", notes=" | ".join(notes(found)) or "-")
        except (ValueError, InfluxError) as exc:  # SiteError, or a database name InfluxDB would refuse
            said = (str(exc),)
            if said != last:
                event(log, "site_info_sync_failed", logging.WARNING, error=str(exc))
        last = said
        if stop.wait(every_s):
            event(log, "site_info_sync_stopped")
            return 0
