"""A profile's alert thresholds (ruongso/reference/profiles.yaml) as Grafana threshold steps.

Bands: red below crit_low, orange below warn_low, green in between, orange above warn_high, red above
crit_high (Grafana colours a value by the highest step it reaches). The profile compares an aggregate
(agg_low/agg_high, e.g. a 10-min mean) with the threshold; panels say so in their description.
"""

from __future__ import annotations

from typing import Any

from dashboards.model import Step
from ruongso import profiles

OK, WARN, CRIT = "green", "orange", "red"


def steps(entry: dict[str, Any]) -> list[Step] | None:
    """Steps for one quantity entry of a profile; None when it sets no threshold."""
    crit_low, warn_low = entry.get("crit_low"), entry.get("warn_low")
    warn_high, crit_high = entry.get("warn_high"), entry.get("crit_high")
    if all(v is None for v in (crit_low, warn_low, warn_high, crit_high)):
        return None
    base = CRIT if crit_low is not None else WARN if warn_low is not None else OK
    out = [Step(base, None)]
    if crit_low is not None:
        out.append(Step(WARN if warn_low is not None else OK, float(crit_low)))
    if warn_low is not None:
        out.append(Step(OK, float(warn_low)))
    if warn_high is not None:
        out.append(Step(WARN, float(warn_high)))
    if crit_high is not None:
        out.append(Step(CRIT, float(crit_high)))
    return out


def profile_steps(profile_id: str, quantity: str) -> list[Step] | None:
    entry = profiles.profile(profile_id)["quantities"].get(quantity)
    return steps(entry) if entry else None


def aggregates(profile_id: str, quantity: str) -> str:
    """How the profile compares this quantity, for a panel description ('' when instant)."""
    entry = profiles.profile(profile_id)["quantities"].get(quantity) or {}
    aggs = sorted({a for a in (entry.get("agg_low"), entry.get("agg_high")) if a and a != "instant"})
    return ", ".join(aggs)


def key_quantities(profile_id: str, n: int = 2) -> list[str]:
    """The first `n` measured quantities the profile sets thresholds on, in the profile's own order."""
    from contract.quantities import MEASURED

    p = profiles.profile(profile_id)
    return [q for q, e in p["quantities"].items() if q in MEASURED and steps(e)][:n]


def common_steps(quantity: str) -> list[Step] | None:
    """Steps every profile that lists `quantity` agrees on (node health: battery, RSSI); None otherwise."""
    found = {
        tuple(s) for p in profiles.load()["profiles"]
        if quantity in p["quantities"] and (s := steps(p["quantities"][quantity]))
    }
    return list(found.pop()) if len(found) == 1 else None
