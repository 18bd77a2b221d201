"""Drift of one (node, quantity) against the nodes of its site measuring the same quantity.

A two-sided CUSUM of the node's difference from each peer (weather is common to them, a drifting probe
is not); the node drifts when it has drifted from most of its peers, which also tells the drifting node
from the ones it is compared with.
"""

from __future__ import annotations

import math
from typing import Final

# Quantities whose same-site neighbours should read alike: the weather and shared water. Not light, wind
# or leaf wetness (they vary by spot), not soil and field water (irrigation and drainage differ by bed
# and field), and nothing indoors (nodes of a barn site may sit in houses under different ventilation).
DRIFT_QUANTITIES: Final = frozenset({
    "air_temp", "air_humidity", "soil_temp", "water_temp", "dissolved_oxygen", "water_ph", "rain",
})
NO_NEIGHBOUR_DRIFT_PROFILES: Final = frozenset({"pig_barn", "poultry_barn"})


class NeighbourDrift:
    """CUSUM of the difference from one peer, in units of that difference's own learned spread.

    The baseline follows slow natural wandering (irrigation, shade: memory ~`MEMORY` readings) while
    no alarm is raised; a drifting probe moves the difference faster than that and far beyond its
    spread, so the CUSUM (allowance `K`, threshold `H` in spread units) crosses.
    """

    LEARN = 144
    LEARN_MS = 86_400_000  # a whole day, so the spread includes the daily swing of the difference
    MEMORY = 2000
    K = 3.0
    H = 25.0

    def __init__(self) -> None:
        self.n = 0
        self.base = 0.0
        self.scale = 0.0
        self.res = math.inf
        self.prev: float | None = None
        self.pos = 0.0
        self.neg = 0.0
        self.active = False
        self.calm = 0
        self.first_ts = -1

    def update(self, d: float, ts: int) -> bool:
        self.n += 1
        if self.first_ts < 0:
            self.first_ts = ts
        if self.prev is not None and 0 < abs(d - self.prev) < self.res:
            self.res = abs(d - self.prev)
        self.prev = d
        if self.n <= self.LEARN or ts - self.first_ts < self.LEARN_MS:
            a = 1.0 / self.n
            self.base += a * (d - self.base)
            if self.n > 1:
                self.scale += a * (abs(d - self.base) - self.scale)
            return False
        s = max(self.scale * 1.2533, self.res if self.res < math.inf else 0.0, 1e-9 * (abs(self.base) + 1.0))
        u = (d - self.base) / s
        self.pos = max(0.0, self.pos + u - self.K)
        self.neg = max(0.0, self.neg - u - self.K)
        if self.pos > self.H or self.neg > self.H:
            self.active = True
        if self.active:
            self.calm = self.calm + 1 if abs(u) < 2.0 else 0
            if self.calm >= 12:
                self.active, self.pos, self.neg, self.calm = False, 0.0, 0.0, 0
        elif abs(u) < 4.0:
            a = 1.0 / self.MEMORY
            self.base += a * (d - self.base)
            self.scale += a * (min(abs(d - self.base), 4.0 * s) - self.scale)
        return self.active


class PeerDrift:
    """Drift of one (node, quantity) against each peer of its site; needs at least two peers."""

    def __init__(self) -> None:
        self.pairs: dict[str, NeighbourDrift] = {}
        self.peer_names: list[str] = []
        self.active = False

    def update(self, v: float, peers: dict[str, float], ts: int) -> bool:
        alarms = 0
        for peer, pv in peers.items():
            pair = self.pairs.get(peer)
            if pair is None:
                pair = self.pairs[peer] = NeighbourDrift()
            alarms += pair.update(v - pv, ts)
        self.active = len(peers) >= 2 and alarms > len(peers) / 2
        return self.active
