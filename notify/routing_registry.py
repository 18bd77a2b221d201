"""Routing from the fleet registry: a site's contacts (`registry.contacts.site_contacts`), their role,
channels and language, and acknowledgements recorded by the API (`registry.alert_actions`)."""

from __future__ import annotations

import threading

from notify.directory import Recipient


def _addresses(contact: object) -> dict[str, str]:
    phone = getattr(contact, "phone", None)
    by_channel = {"sms": phone, "zalo": phone, "email": getattr(contact, "email", None)}
    out = {ch: by_channel[ch] for ch in getattr(contact, "channels", []) if by_channel.get(ch)}
    zalo_id = getattr(contact, "zalo_id", None)
    if zalo_id and "zalo" in getattr(contact, "channels", []) and "zalo" not in out:
        # No phone for ZNS: reach the follower in the OA chat instead. Never both: two Zalo
        # messages for one alert teach people to ignore them.
        out["zalo_oa"] = zalo_id
    return out  # type: ignore[return-value]


class RegistryDirectory:
    def __init__(self, url: str) -> None:
        from registry.db import open_registry

        self._conn = open_registry(url)
        self._lock = threading.Lock()  # one connection, used by the MQTT thread and the escalation loop

    def recipients(self, site: str, audience: str, severity: str) -> list[Recipient]:
        from registry.contacts import site_contacts
        from registry.db import RegistryError

        with self._lock:
            try:
                linked = site_contacts(self._conn, site)
            except RegistryError:
                return []  # a site the registry does not know has no one to tell
        out = []
        for sc in linked:
            c = sc.contact
            if c.role != audience:
                continue
            addresses = _addresses(c)
            if addresses:
                out.append(Recipient(f"contact-{c.id}", c.name, c.role, c.language, addresses))
        return out

    def site_name(self, site: str) -> str:
        from registry.db import RegistryError
        from registry.sites import get_site

        with self._lock:
            try:
                return get_site(self._conn, site).name
            except RegistryError:
                return site

    def acknowledged(self, alert_id: str) -> bool:
        from registry.alert_actions import acks_for
        from registry.db import DatabaseError

        with self._lock:
            try:
                return alert_id in acks_for(self._conn, [alert_id])
            except DatabaseError:
                return False  # cannot tell now: escalating is the safe side

    def close(self) -> None:
        self._conn.close()
