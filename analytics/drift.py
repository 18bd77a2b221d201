"""Drift of one (node, quantity) against the nodes of its site measuring the same quantity.

Weather, shared water and a barn's climate move every node of a site alike; a drifting probe moves only
its own readings. So each node keeps, for each peer, the difference between its reading and the peer's:
- the difference's baseline is learned over the first day, then follows slow natural wandering
  (memory `MEMORY` readings, about two days at 5-min readings) while nothing is wrong;
- a step that stays (one barn's fans switching to another stage) moves the baseline with it: a step
  happens between two readings, a drift spreads over many;
- the departure from the baseline, smoothed over `SMOOTH` readings, is judged against the larger of the
  quantity's smallest drift worth a technician's visit (`DRIFT_MIN`) and `SPREAD_K` times the pair's
  usual departure (two ponds' oxygen differ more by nature than two thermometers in one field); a pair
  alarms after `SUSTAIN` consecutive readings beyond it, and calms after `CALM` readings back inside
  half of it.
A node drifts when it has drifted from most of its peers (at least two), which also tells the drifting
node from the ones it is compared with.
A departure that lasts `RELEARN_DAYS` is taken as the pair's new normal (a moved node), so an alarm
ends even if nobody acknowledges it.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

# The smallest drift worth a technician's visit, in the quantity's unit: a few times the sensors'
# stated accuracy (docs/agronomy.md §9: DHT22/SHT3x ±0.5/±0.2 °C and ±2 %RH, DS18B20 ±0.5 °C, EZO-DO
# ±0.05 mg/L but membrane fouling drifts low, MH-Z19 ±(50 ppm + 3 %), JSN-SR04T ±1 cm) plus room for
# the natural difference between two spots of one site. UNSOURCED ESTIMATES: tune per site.
DRIFT_MIN: Final[dict[str, float]] = {
    "air_temp": 2.5,
    "air_humidity": 8.0,
    "soil_temp": 1.0,
    "water_temp": 1.0,
    "dissolved_oxygen": 1.5,
    "water_ph": 0.4,
    "soil_ph": 0.4,
    "soil_moisture": 5.0,
    "water_level": 6.0,
    "co2": 600.0,
    "nh3": 6.0,
    "wind_speed": 1.5,
    "rain": 2.0,
}
# Not compared: light and leaf wetness vary by spot (shade, dew on one leaf) far more than any drift
# (light is judged by physics instead: analytics/faults.py, light at night); soil EC is raised by
# fertigation and lowered by leaching, both management of one bed.
DRIFT_QUANTITIES: Final = frozenset(DRIFT_MIN)
# Raised by management (one bed irrigated, one pond refilled over a few hours), which looks exactly like
# a fast drift; but they fall only as fast as evaporation and seepage allow. So only a fall is judged:
# the node must have drifted from its peers and its own value must have fallen by the drift floor below
# its own day-long mean (peers that were irrigated or refilled leave the node's own value where it was).
FALL_ONLY: Final = frozenset({"soil_moisture", "water_level"})
OWN_MEMORY_MS: Final = 86_400_000
# A paddy's water also falls fast by management: fields are drained on purpose (mid-season drainage,
# alternate wetting and drying, docs/agronomy.md §2.3), and percolation is fast after an irrigation.
NOT_COMPARED_IN: Final[dict[str, frozenset[str]]] = {"rice_paddy": frozenset({"water_level"})}

DAY_BINS: Final = 48
PROFILE_MEMORY: Final = 42  # readings per bin: about a week at 5-min readings


def compared(profile: str | None, quantity: str) -> bool:
    """Whether drift of `quantity` is judged against the neighbours on a site of `profile`."""
    return quantity in DRIFT_QUANTITIES and quantity not in NOT_COMPARED_IN.get(profile or "", ())


class NeighbourDrift:
    """Drift of one node's quantity against one peer, from their difference (`update` each reading)."""

    LEARN = 144
    LEARN_MS = 86_400_000  # a whole day, so the baseline is the difference's daily mean
    MEMORY = 576
    SPREAD_K = 6.0  # the departure that alarms: at least this many times the pair's usual departure …
    SPREAD_MEMORY = 2000  # … learned over the first day, then slowly (about a week) while all is well
    SMOOTH = 4
    STEP_J = 10.0  # a step: the 3-reading median moves this many one-reading noise units …
    STEP_WINDOW: Final = 6  # … between the first and the last three of these readings, in one reading
    SUSTAIN = 3
    CALM = 12
    RELEARN_DAYS = 3

    def __init__(self, quantity: str, floor: float | None = None, daily: bool = False) -> None:
        self.floor = DRIFT_MIN.get(quantity, math.inf) if floor is None else floor
        # With `daily`, the baseline has a time-of-day profile (half-hour bins, about a week's memory),
        # learned over the first two days: for a difference that follows a daily routine.
        self.profile = [0.0] * DAY_BINS if daily else None
        self.profile_n = [0] * DAY_BINS
        self.learn_ms = 2 * self.LEARN_MS if daily else self.LEARN_MS
        self.n = 0
        self.first_ts = -1
        self.base = 0.0
        self.smooth = 0.0
        self.noise = 0.0  # mean absolute one-reading change of the difference
        self.prev: float | None = None
        self.window: deque[float] = deque(maxlen=self.STEP_WINDOW)
        self.spread = 0.0  # mean absolute departure from the baseline while nothing is wrong
        self.over = 0
        self.calm = 0
        self.active = False
        self.active_since = -1

    def update(self, d: float, ts: int) -> bool:
        # Called for every reading of every peer pair: kept to plain arithmetic on attributes.
        n = self.n = self.n + 1
        prev = self.prev
        if prev is None:
            self.first_ts = ts
            self.base = self.smooth = d
        else:
            step = abs(d - prev)
            noise = self.noise
            if n > 20 and step > 8 * noise:
                step = 8 * noise
            self.noise = noise + (step - noise) / (n if n < 500 else 500)
        self.prev = d
        d_raw = d
        b = -1
        if self.profile is not None:
            b = int(ts % 86_400_000) * DAY_BINS // 86_400_000
            d -= self._profile_at(b)
        self.window.append(d)
        if n <= self.LEARN or ts - self.first_ts < self.learn_ms:
            self.base += (d_raw - self.base) / n
            self.smooth = d - self.base
            self.spread += (abs(self.smooth) - self.spread) / n
            self._learn_profile(b, d_raw)
            return False
        if not self.active and len(self.window) == self.STEP_WINDOW:
            self._absorb_step()
        self.smooth += (d - self.base - self.smooth) / self.SMOOTH
        # Nodes that differ more by nature (two ponds' oxygen, two barns' air) need a larger departure.
        limit = max(self.floor, self.SPREAD_K * self.spread)
        size = abs(self.smooth)
        if self.active:
            self.calm = self.calm + 1 if size < limit / 2 else 0
            if self.calm >= self.CALM or ts - self.active_since > self.RELEARN_DAYS * 86_400_000:
                self.active, self.over, self.calm = False, 0, 0
                self.base, self.smooth = d, 0.0
            return self.active
        self.over = self.over + 1 if size > limit else 0
        if self.over >= self.SUSTAIN:
            self.active, self.active_since, self.calm = True, ts, 0
            return True
        if size < limit / 2:
            self.base += (d - self.base) / self.MEMORY
            self.spread += (size - self.spread) / self.SPREAD_MEMORY
            self._learn_profile(b, d_raw)
        return False

    def _profile_at(self, b: int) -> float:
        if self.profile is None or self.profile_n[b] == 0:
            return 0.0
        return self.profile[b]

    def _learn_profile(self, b: int, d_raw: float) -> None:
        if self.profile is None:
            return
        k = self.profile_n[b] = self.profile_n[b] + 1
        self.profile[b] += (d_raw - self.base - self.profile[b]) / min(k, PROFILE_MEMORY)

    def _absorb_step(self) -> None:
        w = self.window
        a, b, c, x, y, z = w
        jump = sorted((x, y, z))[1] - sorted((a, b, c))[1]
        # A step happens between two readings; a drift, however fast, spreads over several.
        if abs(jump) > self.STEP_J * self.noise > 0 and abs(x - c) >= 0.7 * abs(jump):
            self.base += jump
            self.smooth -= jump
            w.clear()


class PeerDrift:
    """Drift of one (node, quantity) against each peer of its site; needs at least two peers."""

    def __init__(self, quantity: str) -> None:
        self.quantity = quantity
        self.pairs: dict[str, NeighbourDrift] = {}
        self.peer_names: list[str] = []
        self.active = False
        self.fall_only = quantity in FALL_ONLY
        self.own_mean: float | None = None  # fall-only quantities: the node's own day-long mean
        self.own_ts = 0

    def update(self, v: float, peers: dict[str, float], ts: int) -> bool:
        alarms = 0
        for peer, pv in peers.items():
            pair = self.pairs.get(peer)
            if pair is None:
                pair = self.pairs[peer] = NeighbourDrift(self.quantity)
            alarms += pair.update(v - pv, ts)
        drifted = len(peers) >= 2 and alarms > len(peers) / 2
        if self.fall_only:
            drifted = self._fallen(v, ts, drifted)
        self.active = drifted
        return drifted

    def _fallen(self, v: float, ts: int, drifted: bool) -> bool:
        mean = self.own_mean
        if mean is None:
            self.own_mean, self.own_ts = v, ts
            return False
        fallen = drifted and v < mean - DRIFT_MIN[self.quantity]
        if not drifted:  # frozen while the pairs alarm, so a slow fall is not learned as normal
            self.own_mean = mean + min(1.0, (ts - self.own_ts) / OWN_MEMORY_MS) * (v - mean)
        self.own_ts = ts
        return fallen


# In a mechanically ventilated barn CO2 and NH3 are diluted by the same air exchange, so the ratio of NH3
# to the CO2 above outdoor air follows the manure's emission, which changes over days (and in one step
# when manure or litter is removed), not within hours. Both rise as ventilation falls (docs/agronomy.md §5
# [DIGEST] [NH3-NIGHT]), and CO2 is the tracer gas of the CO2-balance method of estimating barn
# ventilation (Pedersen et al. 2008, "Carbon dioxide production in animal houses: a literature review",
# CIGR Ejournal X). An NDIR CO2 sensor drifts far less than an electrochemical NH3 cell (UNSOURCED), so
# a broken ratio while CO2 agrees with its neighbours is put on NH3.
OUTDOOR_CO2_PPM: Final = 420.0
# ln units: the ratio off its baseline by more than ×1.6 (UNSOURCED ESTIMATE, above the daily swing of
# a pig barn scraped twice a day).
TRACER_FLOOR: Final = 0.45


class TracerDrift:
    """NH3 of one barn node against its own CO2 (`update` with both from one reading set)."""

    def __init__(self) -> None:
        # Manure is scraped on a daily routine, so the ratio has a daily profile.
        self.pair = NeighbourDrift("nh3", floor=TRACER_FLOOR, daily=True)

    @property
    def active(self) -> bool:
        return self.pair.active

    def update(self, nh3: float, co2: float, ts: int) -> bool:
        excess = max(co2 - OUTDOOR_CO2_PPM, 50.0)  # near outdoor air the ratio says nothing
        return self.pair.update(math.log(max(nh3, 0.0) + 1.0) - math.log(excess), ts)
