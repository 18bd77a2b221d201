"""Who gets an alert, on which channels, in which language: the one question routing answers.

Two implementations: `YamlDirectory` (a routing file, `--routing routing.yaml`) and
`RegistryDirectory` (contacts and sites of the fleet registry). The dispatcher knows only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

from contract.alerts import SEVERITIES

# Escalation goes one step up this ladder when a critical alert is not acknowledged in time.
LADDER: Final = ("farmer", "technician", "officer")


@dataclass(frozen=True, slots=True)
class Recipient:
    id: str  # stable across restarts: part of every idempotency key
    name: str
    role: str
    language: str = "vi"
    # channel name → address on that channel (phone, e-mail, URL, topic suffix)
    addresses: dict[str, str] = field(default_factory=dict)


class Directory(Protocol):
    def recipients(self, site: str, audience: str, severity: str) -> list[Recipient]:
        """Everyone who should hear of an alert of `severity` for `audience` at `site`."""
        ...

    def site_name(self, site: str) -> str:
        """The name people call the site by (falls back to the slug)."""
        ...

    def acknowledged(self, alert_id: str) -> bool:
        """Whether someone acknowledged the alert where this directory can see it."""
        ...


def severity_at_least(severity: str, minimum: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)


def next_audience(audience: str) -> str | None:
    i = LADDER.index(audience) if audience in LADDER else len(LADDER)
    return LADDER[i + 1] if i + 1 < len(LADDER) else None
