"""Alert lifecycle like Alertmanager's: pending → firing → resolved, one alert per (site, node, rule).

Time is the data's time (reading `ts`, ms), so replays and simulated runs behave like live ones.
- A condition must hold for the rule's `min_duration` before the alert fires (pending until then);
  an unknown condition (missing data, faulty sensor) cancels a pending alert but never resolves a
  firing one.
- A firing alert is re-announced every `repeat_ms` unless acknowledged or silenced.
- Acknowledge (by alert id) and silence (site, optional node and rule prefix, from/until a time) come
  from the control topic (analytics/control.py); each emits one event in state `acknowledged`/`silenced`.
- `snapshot()`/`restore()` carry firing alerts and silences across a restart, so an alert that is
  already firing is not announced again.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

Key = tuple[str, str, str]  # site, node ("-" for site-wide), rule


@dataclass(slots=True)
class Active:
    key: Key
    pending_since: int
    id: str = ""
    started: int = 0
    firing: bool = False
    last_sent: int = 0
    acked: bool = False
    silenced: bool = False
    severity: str = "warning"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Silence:
    site: str
    until: int
    node: str | None = None
    rule: str | None = None  # a prefix: "dissolved_oxygen." silences every DO rule
    start: int = 0

    def matches(self, key: Key, now: int) -> bool:
        site, node, rule = key
        return (
            self.start <= now < self.until
            and site == self.site
            and (self.node is None or node == self.node)
            and (self.rule is None or rule.startswith(self.rule))
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """What the lifecycle decided; the engine turns it into an AlertEvent."""

    state: str  # firing | resolved | acknowledged | silenced
    alert: Active
    ts: int


def new_id() -> str:
    return "a-" + secrets.token_hex(6)


class Lifecycle:
    def __init__(self, repeat_ms: int = 4 * 3_600_000) -> None:
        self.repeat_ms = repeat_ms
        self.active: dict[Key, Active] = {}
        self.silences: list[Silence] = []

    def silenced(self, key: Key, now: int) -> bool:
        return any(s.matches(key, now) for s in self.silences)

    def evaluate(
        self, key: Key, cond: bool | None, ts: int, min_duration_ms: int, severity: str, meta: dict[str, Any],
        repeat_ms: int | None = None,
    ) -> Transition | None:
        """`repeat_ms` overrides the repeat interval (a rule judged once a day repeats once a day)."""
        a = self.active.get(key)
        if cond is None:
            if a is not None and not a.firing:
                del self.active[key]
            return None
        if not cond:
            if a is None:
                return None
            del self.active[key]
            if a.firing:
                a.meta.update(meta)
                return Transition("resolved", a, ts)
            return None
        if a is None:
            a = self.active[key] = Active(key, ts, severity=severity, meta=dict(meta))
        if not a.firing:
            a.meta = dict(meta)
            if ts - a.pending_since < min_duration_ms:
                return None
            a.firing, a.id, a.started, a.last_sent = True, new_id(), a.pending_since, ts
            a.silenced = self.silenced(key, ts)
            return Transition("silenced" if a.silenced else "firing", a, ts)
        a.meta.update(meta)
        if a.acked or self.silenced(key, ts):
            return None
        if a.silenced:  # the silence ran out while the alert kept firing
            a.silenced = False
            a.last_sent = ts
            return Transition("firing", a, ts)
        if ts - a.last_sent >= (repeat_ms or self.repeat_ms):
            a.last_sent = ts
            return Transition("firing", a, ts)
        return None

    def cancel_pending(self, key: Key) -> None:
        a = self.active.get(key)
        if a is not None and not a.firing:
            del self.active[key]

    def is_firing(self, key: Key) -> bool:
        a = self.active.get(key)
        return a is not None and a.firing

    def is_active(self, key: Key) -> bool:
        return key in self.active

    def find(self, alert_id: str) -> Active | None:
        return next((a for a in self.active.values() if a.firing and a.id == alert_id), None)

    def acknowledge(self, alert_id: str, ts: int) -> Transition | None:
        for a in self.active.values():
            if a.firing and a.id == alert_id and not a.acked:
                a.acked = True
                return Transition("acknowledged", a, ts)
        return None

    def silence(self, s: Silence, ts: int) -> list[Transition]:
        self.silences = [x for x in self.silences if x.until > ts] + [s]
        out = []
        for a in self.active.values():
            if a.firing and not a.silenced and not a.acked and s.matches(a.key, ts):
                a.silenced = True
                out.append(Transition("silenced", a, ts))
        return out

    def set_silences(self, site: str, silences: list[Silence], ts: int) -> list[Transition]:
        """Replace the site's silences with `silences` (the API's whole current set)."""
        self.silences = [s for s in self.silences if s.site != site and s.until > ts] + silences
        out = []
        for a in self.active.values():
            if a.firing and not a.silenced and not a.acked and a.key[0] == site and self.silenced(a.key, ts):
                a.silenced = True
                out.append(Transition("silenced", a, ts))
        return out

    # -- persistence ---------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "firing": [asdict(a) for a in self.active.values() if a.firing],
            "silences": [asdict(s) for s in self.silences],
        }

    def restore(self, doc: dict[str, Any]) -> int:
        n = 0
        for d in doc.get("firing", []):
            d = dict(d)
            d["key"] = tuple(d["key"])
            a = Active(**d)
            self.active[a.key] = a
            n += 1
        for s in doc.get("silences", []):
            self.silences.append(Silence(**s))
        return n
