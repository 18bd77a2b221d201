"""Routing from a YAML file: sites and contacts, for pilots run without the registry.

```yaml
sites:
  hk-pond-1: {name: "Ao 2 Hưng Kỳ"}
contacts:
  - id: lan                    # stable id: part of idempotency keys and ack links
    name: "Nguyễn Thị Lan"
    role: farmer               # farmer | technician | officer
    language: vi               # vi | en
    sites: [hk-pond-1]         # or ["*"] for every site (district officers)
    min_severity: warning      # warning | critical
    audiences: [farmer]        # alert audiences this contact hears; default [role]
    channels: {zalo: "0912345678", sms: "0912345678", email: lan@example.vn}
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from contract.alerts import AUDIENCES, SEVERITIES
from notify.directory import Recipient, severity_at_least

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RoutingError(ValueError):
    pass


class YamlDirectory:
    def __init__(self, doc: dict[str, Any], known_channels: tuple[str, ...], where: str = "routing") -> None:
        self._where = where
        if not isinstance(doc, dict):
            raise RoutingError(f"{where}: expected a mapping with 'sites' and 'contacts'")
        sites = doc.get("sites") or {}
        if not isinstance(sites, dict):
            raise RoutingError(f"{where}: 'sites' must map site slug → {{name: ...}}")
        self._names = {str(k): str((v or {}).get("name", k)) for k, v in sites.items()}
        self._contacts: list[tuple[Recipient, frozenset[str], str, frozenset[str]]] = []
        seen: set[str] = set()
        for i, c in enumerate(doc.get("contacts") or []):
            self._contacts.append(self._contact(i, c, known_channels, seen))

    def _contact(
        self, i: int, c: Any, known: tuple[str, ...], seen: set[str]
    ) -> tuple[Recipient, frozenset[str], str, frozenset[str]]:
        at = f"{self._where}: contacts[{i}]"
        if not isinstance(c, dict):
            raise RoutingError(f"{at} must be a mapping")
        cid = str(c.get("id", ""))
        if not _ID_RE.match(cid) or cid in seen:
            raise RoutingError(f"{at}: id {cid!r} must be unique, 1-64 of A-Z a-z 0-9 _ . -")
        seen.add(cid)
        role = c.get("role")
        if role not in AUDIENCES:
            raise RoutingError(f"{at} ({cid}): role {role!r} must be one of {', '.join(AUDIENCES)}")
        lang = c.get("language", "vi")
        if lang not in ("vi", "en"):
            raise RoutingError(f"{at} ({cid}): language {lang!r} must be vi or en")
        min_sev = c.get("min_severity", "warning")
        if min_sev not in SEVERITIES:
            raise RoutingError(f"{at} ({cid}): min_severity {min_sev!r} must be one of {', '.join(SEVERITIES)}")
        audiences = c.get("audiences", [role])
        if not isinstance(audiences, list) or any(a not in AUDIENCES for a in audiences):
            raise RoutingError(f"{at} ({cid}): audiences must be a list of {', '.join(AUDIENCES)}")
        chans = c.get("channels") or {}
        if not isinstance(chans, dict) or not chans:
            raise RoutingError(f"{at} ({cid}): channels must map channel → address")
        unknown = [k for k in chans if k not in known]
        if unknown:
            names = ", ".join(map(str, unknown))
            raise RoutingError(f"{at} ({cid}): unknown channel(s) {names}; known: {', '.join(known)}")
        sites = c.get("sites") or []
        if not isinstance(sites, list) or not sites:
            raise RoutingError(f"{at} ({cid}): sites must be a non-empty list (or [\"*\"])")
        rec = Recipient(cid, str(c.get("name", cid)), role, lang, {str(k): str(v) for k, v in chans.items()})
        return rec, frozenset(map(str, sites)), min_sev, frozenset(audiences)

    @classmethod
    def load(cls, path: str | Path, known_channels: tuple[str, ...]) -> YamlDirectory:
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RoutingError(f"cannot read routing file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise RoutingError(f"routing file {path} is not valid YAML: {exc}") from None
        return cls(doc or {}, known_channels, str(path))

    def recipients(self, site: str, audience: str, severity: str) -> list[Recipient]:
        return [
            rec
            for rec, sites, min_sev, audiences in self._contacts
            if (site in sites or "*" in sites) and audience in audiences and severity_at_least(severity, min_sev)
        ]

    def site_name(self, site: str) -> str:
        return self._names.get(site, site)

    def acknowledged(self, alert_id: str) -> bool:
        # A routing file sees no acknowledgements; the dispatcher still hears `acknowledged` events.
        return False
