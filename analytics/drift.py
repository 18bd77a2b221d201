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
node from the ones it is compared with; with one peer, the node's own daily profile tells (`OwnLevel`).
A departure that lasts `RELEARN_DAYS` is taken as the pair's new normal (a moved node), so an alarm
ends even if nobody acknowledges it; a pair with a daily profile then learns afresh, its daily shape
too (barns whose fans now run another routine would otherwise alarm again every afternoon).
"""

from __future__ import annotations

import math
import statistics
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
# a fast drift; but they fall only as fast as evaporation and seepage allow. So a fall is judged: the
# node must have drifted from its peers and its own value must have fallen by the drift floor below its
# own day-long mean (peers that were irrigated or refilled leave the node's own value where it was).
# A rise is judged only when it is no watering: water arrives within an hour or two and then drains, and
# rain raises every node of a site. So a reading whose lead over the site's other nodes has grown every
# hour for `RISE_HOURS` hours, by more than a creep and never by a watering's `WATERING` in one hour, is
# the probe (UNSOURCED ESTIMATES: a slow drip line feeding one probe for hours would pass for a drift;
# tune per site).
FALL_ONLY: Final = frozenset({"soil_moisture", "water_level"})
OWN_MEMORY_MS: Final = 86_400_000
RISE_HOURS: Final = 4
WATERING: Final = {"soil_moisture": 2.0, "water_level": 2.0}  # a rise per hour only water brings
# A paddy's water also falls fast by management: fields are drained on purpose (mid-season drainage,
# alternate wetting and drying, docs/agronomy.md §2.3), and percolation is fast after an irrigation.
NOT_COMPARED_IN: Final[dict[str, frozenset[str]]] = {"rice_paddy": frozenset({"water_level"})}

DAY_BINS: Final = 48
DAILY_PAIRS: Final = frozenset({"dissolved_oxygen"})
# An oxygen probe drifts low: its membrane (galvanic) or sensing spot (optical) fouls with algae and
# biofilm, which slows oxygen reaching it (docs/agronomy.md §9 [DO-FOUL]). Two ponds' oxygen differ by nature far
# more than two thermometers do, so a pond reading above its neighbours is not taken for a drift.
DRIFTS_LOW: Final = frozenset({"dissolved_oxygen"})
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
    EARLY = 24  # readings learned before the first day's judging starts …
    EARLY_K = 2.0  # … against this many times the usual limit
    RELEARN_DAYS = 3

    def __init__(self, quantity: str, floor: float | None = None, daily: bool = False) -> None:
        self.floor = DRIFT_MIN.get(quantity, math.inf) if floor is None else floor
        # With `daily`, the baseline has a time-of-day profile (half-hour bins, about a week's memory),
        # learned over the first two days: for a difference that follows a daily routine.
        self.daily = daily
        self.learn_ms = 2 * self.LEARN_MS if daily else self.LEARN_MS
        self.noise = 0.0  # mean absolute one-reading change of the difference
        self.window: deque[float] = deque(maxlen=self.STEP_WINDOW)
        self._begin()

    def _begin(self) -> None:
        """Start learning the pair: at its first reading, and again when a lasting departure is its new
        normal (`_restart`)."""
        self.profile: list[float] | None = [0.0] * DAY_BINS if self.daily else None
        self.profile_n = [0] * DAY_BINS
        self.n = 0
        self.learned = 0  # readings the first day's baseline was learned from
        self.early_limit = -1.0
        self.first_ts = -1
        self.base = 0.0
        self.smooth = 0.0
        self.prev: float | None = None
        self.spread = 0.0  # mean absolute departure from the baseline while nothing is wrong
        self.over = 0
        self.calm = 0
        self.active = False
        self.active_since = -1

    def limit(self) -> float:
        """The departure that alarms: the floor, or `SPREAD_K` times the pair's usual departure."""
        return max(self.floor, self.SPREAD_K * self.spread)

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
            return self._learn(d, d_raw, b, ts)
        if not self.active and len(self.window) == self.STEP_WINDOW:
            self._absorb_step()
        self.smooth += (d - self.base - self.smooth) / self.SMOOTH
        # Nodes that differ more by nature (two ponds' oxygen, two barns' air) need a larger departure.
        limit = max(self.floor, self.SPREAD_K * self.spread)  # `limit()`, inline: every reading of every pair
        size = abs(self.smooth)
        if self.active:
            self.calm = self.calm + 1 if size < limit / 2 else 0
            if self.calm >= self.CALM or ts - self.active_since > self.RELEARN_DAYS * 86_400_000:
                if self.profile is not None and self.calm < self.CALM:
                    self._restart()
                else:
                    self.active, self.over, self.calm = False, 0, 0
                    self.base, self.smooth = d, 0.0
            return self.active
        self.over = self.over + 1 if size > limit else 0
        if self.over >= self.SUSTAIN:
            self.active, self.active_since, self.calm = True, ts, 0
            return True
        # The baseline follows whatever has not alarmed: a departure that settles short of the limit is
        # the pair's slow wandering (a ramp to the limit is over long before the baseline catches up).
        self.base += (d - self.base) / self.MEMORY
        if size < limit / 2:
            self.spread += (size - self.spread) / self.SPREAD_MEMORY
            if self.profile is not None:
                self._learn_profile(b, d_raw)
        return False

    def _learn(self, d: float, d_raw: float, b: int, ts: int) -> bool:
        """The first day: learn the pair's baseline and, after `EARLY` readings, already judge a departure
        against `EARLY_K` times the usual limit (a probe can drift in its first hours too), learning
        nothing from a departure."""
        k = self.learned + 1
        base = self.base
        if k > self.EARLY:
            smooth = self.smooth = self.smooth + (d - base - self.smooth) / self.SMOOTH
            # Fixed when judging starts: a limit grown from the departures would let a drift raise it.
            limit = self.early_limit
            if limit < 0:
                limit = self.early_limit = self.EARLY_K * self.limit()
            size = smooth if smooth >= 0 else -smooth
            if self.active:
                self.calm = self.calm + 1 if size < limit / 2 else 0
                if self.calm >= self.CALM:
                    self.active, self.over, self.calm = False, 0, 0
                return self.active
            if size > limit:
                self.over += 1
                if self.over >= self.SUSTAIN:
                    self.active, self.active_since, self.calm = True, ts, 0
                    return True
            elif self.over:
                self.over = 0
            if size >= limit / 2:
                return False
        else:
            self.smooth = d - base
        self.learned = k
        base = self.base = base + (d_raw - base) / k
        dev = d - base
        self.spread += ((dev if dev >= 0 else -dev) - self.spread) / k
        if self.profile is not None:
            self._learn_profile(b, d_raw)
        return False

    def _restart(self) -> None:
        """A departure that lasted days is the pair's new normal, its daily shape too: learn it afresh
        (the one-reading noise is kept)."""
        self._begin()
        self.window.clear()

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


# Between barns a gas is compared as ln of its excess over outdoor air, not as a difference: each barn's
# excess is its animals' emission divided by its ventilation (docs/agronomy.md §5), so two barns' excesses
# keep their ratio as the fans speed up and slow down together, while their difference swings with the
# fans. Two barns' controllers do not switch stage at the same minute (set points differ), so the ratio
# has a daily profile. On a cold day one barn may sit at minimum ventilation all day while another still
# modulates, which moves the ratio by up to ×1.45 for the day: the pair's own spread (SPREAD_K) raises
# the limit for barns that differ that much. Floors in ln units (UNSOURCED ESTIMATES, tune per site):
# CO2 off by ×1.35 (600 ppm at a typical 2000 ppm), NH3 by ×1.5. A ×1.5 CO2 floor gave 5 fewer false
# alerts over two simulated months and missed two more drifts.
OUTDOOR_CO2_PPM: Final = 420.0
BARN_PROFILES: Final = frozenset({"pig_barn", "poultry_barn"})
BARN_GAS_FLOOR: Final = {"co2": 0.3, "nh3": 0.4}
BARN_GAS_SOFT: Final = {"co2": 300.0, "nh3": 2.0}


def barn_gas_level(quantity: str, v: float) -> float:
    """ln of a barn gas's excess over outdoor air plus `BARN_GAS_SOFT`: relative where the gas is high,
    about absolute near outdoor air (there the floor is ~100 ppm CO2, twice an NDIR sensor's ±50 ppm, and
    ~1 ppm NH3, not a ratio of nearly nothing)."""
    excess = max(v - OUTDOOR_CO2_PPM, 0.0) if quantity == "co2" else max(v, 0.0)
    return math.log(excess + BARN_GAS_SOFT[quantity])


# A site of two nodes (or of three, one of them broken or offline) has one pair: it shows that the two
# parted, not which one moved. Each node's own daily profile names it: while they parted, the drifting
# node's reading moved off its own usual level for the time of day, and the other's did not. Weather
# moves both alike, and is told apart only by being shared: a node is named when, since the pair was last
# quiet, its own departure grew by half the parting or more, in the parting's direction, and the other
# node's strayed by at most `OTHER_SHARE` of it all along (UNSOURCED ESTIMATE; weather turning while a
# probe drifts leaves the two unnamed: a third node would tell). The weather moves further the
# longer the parting takes, so it is judged only within `QUIET_MAX_MS` of the pair's last quiet reading.
OTHER_SHARE: Final = 0.25
QUIET_MAX_MS: Final = 12 * 3_600_000


class OwnLevel:
    """A node's departure from its own daily profile of a compared quantity (half-hour bins, about a
    week's memory), smoothed like a pair's departure."""

    READY = 12  # readings in the time-of-day bin (two days) before the departure is trusted

    def __init__(self) -> None:
        self.profile = [0.0] * DAY_BINS
        self.profile_n = [0] * DAY_BINS
        self.smooth = 0.0
        self.ready = False
        self.ts = self.prev_ts = -1
        self.prev = 0.0  # the smoothed departure at the reading before (`as_of`)

    def update(self, v: float, ts: int, learn: bool) -> None:
        """Judge `v` against the profile; learn it unless the node is alarmed (a drift is not a routine)."""
        b = int(ts % 86_400_000) * DAY_BINS // 86_400_000
        k = self.profile_n[b]
        self.ready = k >= self.READY
        self.prev, self.prev_ts, self.ts = self.smooth, self.ts, ts
        if self.ready:
            self.smooth += (v - self.profile[b] - self.smooth) / NeighbourDrift.SMOOTH
        if learn:
            self.profile_n[b] = k + 1
            self.profile[b] += (v - self.profile[b]) / min(k + 1, PROFILE_MEMORY)

    def as_of(self, other: OwnLevel) -> float:
        """The smoothed departure at the time of `other`'s latest reading: the two nodes of a site report
        in turn, and a shared step (a storm's cooling) half-seen would look like one node moving."""
        if other.ts >= (self.ts + self.prev_ts) / 2 or self.prev_ts < 0:
            return self.smooth
        return self.prev


class PeerDrift:
    """Drift of one (node, quantity) against each peer of its site: named by most of at least two peers,
    or, with one peer, by the node's own daily profile (`OwnLevel`)."""

    def __init__(self, quantity: str, profile: str | None = None) -> None:
        self.quantity = quantity
        # A barn gas is compared as ln of its excess over outdoor air: see BARN_GAS_FLOOR.
        self.gas = quantity if profile in BARN_PROFILES and quantity in BARN_GAS_FLOOR else None
        self.floor = BARN_GAS_FLOOR[quantity] if self.gas else None
        self.pairs: dict[str, NeighbourDrift] = {}
        self.peer_names: list[str] = []
        self.active = False
        self.fall_only = quantity in FALL_ONLY
        self.reads_low = quantity in DRIFTS_LOW
        self.own_mean: float | None = None  # fall-only quantities: the node's own day-long mean
        self.own_ts = 0
        self.hourly: deque[float] = deque(maxlen=RISE_HOURS + 1)  # hourly means of its lead over the peers
        self.hour_sum = 0.0
        self.hour_n = 0
        self.hour_start = -1
        self.rising = False  # a rise judged a drift: stays while the node stays off its peers
        self.own = OwnLevel()
        # With one peer: both nodes' own departures and the pair's when the pair was last quiet, and
        # when; how far the peer's own departure has strayed since; and whether this node was named (it
        # stays named while the pair alarms).
        self.quiet: tuple[float, float, float, int] | None = None
        self.quiet_pair: NeighbourDrift | None = None
        self.stirred = 0.0
        self.alone = False

    def update(self, v: float, peers: dict[str, float], ts: int, lone: OwnLevel | None = None) -> bool:
        """`lone`: with one peer, that peer's own level (`OwnLevel`), to tell which of the two moved."""
        if self.gas is not None:
            v = barn_gas_level(self.gas, v)
            peers = {p: barn_gas_level(self.gas, pv) for p, pv in peers.items()}
        alarms = 0
        pair = None
        for peer, pv in peers.items():
            pair = self.pairs.get(peer)
            if pair is None:
                daily = self.quantity in DAILY_PAIRS or self.gas is not None
                pair = self.pairs[peer] = NeighbourDrift(self.quantity, floor=self.floor, daily=daily)
            if pair.update(v - pv, ts) and (not self.reads_low or pair.smooth < 0):
                alarms += 1
        self.own.update(v, ts, learn=alarms == 0 and not self.active)
        if len(peers) == 1 and pair is not None:
            drifted = self.alone = self._moved_alone(pair, alarms == 1, lone, ts)
        else:
            self.alone = False
            drifted = len(peers) >= 2 and alarms > len(peers) / 2
        if self.fall_only:
            lead = v - sum(peers.values()) / len(peers) if peers else 0.0
            drifted = self._fallen(v, lead, ts, drifted)
        self.active = drifted
        return drifted

    def _moved_alone(self, pair: NeighbourDrift, alarmed: bool, other: OwnLevel | None, ts: int) -> bool:
        """With one peer, whether this node, not the peer (`other`, its own level), moved the pair."""
        own = self.own
        if other is None or not (own.ready and other.ready):
            return False
        if alarmed and self.alone:
            return True
        if not alarmed and abs(pair.smooth) < pair.limit() / 4:
            self.quiet, self.quiet_pair, self.stirred = (own.as_of(other), other.smooth, pair.smooth, ts), pair, 0.0
            return False
        # Kept while the peer is away for a while (a dropout, a spike's suppression): it is the same pair.
        if self.quiet is None or self.quiet_pair is not pair:
            return False
        mine_then, theirs_then, parting_then, then = self.quiet
        self.stirred = max(self.stirred, abs(other.smooth - theirs_then))
        if not alarmed or ts - then > QUIET_MAX_MS:
            return False
        parting = pair.smooth - parting_then
        mine = own.as_of(other) - mine_then
        if parting < 0:
            mine = -mine
        return mine >= abs(parting) / 2 and self.stirred <= OTHER_SHARE * abs(parting)

    def _fallen(self, v: float, lead: float, ts: int, drifted: bool) -> bool:
        mean = self.own_mean
        self._hour(lead, ts)
        if mean is None:
            self.own_mean, self.own_ts = v, ts
            return False
        floor = DRIFT_MIN[self.quantity]
        fallen = drifted and v < mean - floor
        self.rising = drifted and v > mean + floor and (self.rising or self._climbing())
        if not drifted:  # frozen while the pairs alarm, so a slow fall is not learned as normal
            self.own_mean = mean + min(1.0, (ts - self.own_ts) / OWN_MEMORY_MS) * (v - mean)
        self.own_ts = ts
        return fallen or self.rising

    def _hour(self, lead: float, ts: int) -> None:
        if self.hour_start < 0:
            self.hour_start = ts
        elif ts - self.hour_start >= 3_600_000:
            if self.hour_n:
                self.hourly.append(self.hour_sum / self.hour_n)
            self.hour_sum, self.hour_n, self.hour_start = 0.0, 0, ts
        self.hour_sum += lead
        self.hour_n += 1

    def _climbing(self) -> bool:
        """Risen above the peers every hour of the last `RISE_HOURS`, never as fast as water arrives
        (rain raises every node of a site: the lead over them stays)."""
        h = self.hourly
        if len(h) <= RISE_HOURS:
            return False
        watering = WATERING[self.quantity]
        # Creeping slower than the drift floor in 30 hours is the natural wander of two spots.
        creep = DRIFT_MIN[self.quantity] / 30
        return all(creep < h[i + 1] - h[i] < watering for i in range(RISE_HOURS))


# In a mechanically ventilated barn CO2 and NH3 are diluted by the same air exchange, so the ratio of NH3
# to the CO2 above outdoor air follows the manure's emission, which changes over days (and in one step
# when manure or litter is removed), not within hours. Both rise as ventilation falls (docs/agronomy.md §5
# [DIGEST] [NH3-NIGHT]), and CO2 is the tracer gas of the CO2-balance method of estimating barn
# ventilation (Pedersen et al. 2008, "Carbon dioxide production in animal houses: a literature review",
# CIGR Ejournal X). An NDIR CO2 sensor drifts far less than an electrochemical NH3 cell (UNSOURCED), so
# a broken ratio while CO2 agrees with its neighbours is put on NH3.
# ln units: the ratio off its baseline by more than ×1.6 (UNSOURCED ESTIMATE, above the daily swing of
# a pig barn scraped twice a day).
TRACER_FLOOR: Final = 0.45


class TracerDrift:
    """NH3 of one barn node against its own CO2 (`update` with both from one reading set, then `share`)."""

    def __init__(self) -> None:
        # Manure is scraped on a daily routine, so the ratio has a daily profile.
        self.pair = NeighbourDrift("nh3", floor=TRACER_FLOOR, daily=True)
        self.ts = -1
        self.shared = False

    @property
    def active(self) -> bool:
        return self.pair.active and not self.shared

    @property
    def departure(self) -> float:
        return self.pair.smooth

    def update(self, nh3: float, co2: float, ts: int) -> bool:
        self.ts = ts
        excess = max(co2 - OUTDOOR_CO2_PPM, 50.0)  # near outdoor air the ratio says nothing
        return self.pair.update(math.log(max(nh3, 0.0) + 1.0) - math.log(excess), ts)

    def share(self, others: list[float]) -> None:
        """Given the departures of the site's other barns' ratios now: an alarm they share is no probe's.

        NH3 release from manure rises with its temperature (Ni 1999, "Mechanistic models of ammonia
        release from liquid manure: a review", J. Agric. Eng. Res. 72:1-17), while the animals' CO2 does
        not, so a warm spell raises every barn's ratio together; a drifting cell raises one. The alarm
        stands only if this ratio is off the median of the others by the limit, its own way."""
        p = self.pair
        if not p.active or not others:
            self.shared = False
            return
        mid = statistics.median(others)
        self.shared = (p.smooth - mid if p.smooth > 0 else mid - p.smooth) < p.limit()


# Soil EC follows the water in the soil: pore water concentrates as the soil dries and is diluted by
# irrigation and rain, and a probe's bulk EC rises with water content (Rhoades et al. 1989, "Soil
# electrical conductivity and soil salinity: new formulations and calibrations", SSSA J. 53:433-439).
# So at one wetness a probe's EC repeats from day to day; it changes there only with fertigation or
# leaching, which come with water, or with salt building up over weeks. EC is therefore judged against
# its own usual value at the probe's present wetness, learned as the wetness comes and goes, and not
# against other beds, which are fertilised and irrigated on their own schedules.
# ln units: off its usual value at this wetness by more than ×1.4 (UNSOURCED ESTIMATE: well above a soil
# EC probe's ±5 % and the spread of EC within one wetness bin; tune per site).
EC_FLOOR: Final = 0.35
# Wetness bins: soil moisture in 1 %VWC from 0, a paddy's water level in 1 cm from 20 cm below the
# soil surface (a drained paddy) to 28 cm of standing water.
EC_WETNESS_ORIGIN: Final = {"soil_moisture": 0.0, "water_level": -20.0}
EC_BINS: Final = 48
# While a probe is alarmed, a wetness not yet learned is judged against the nearest learned one within
# this many bins (EC moves a few per cent a bin: well inside half the floor).
EC_NEAR_BINS: Final = 3
# Water arriving (a rise of `WATERING` in an hour: irrigation, fertigation, rain) may bring new salt; the
# EC found once it has soaked in is taken as the new normal at every wetness.
EC_SOAK_MS: Final = 2 * 3_600_000


class EcDrift:
    """Soil EC of one node against its own wetness (`update` with both from one reading set)."""

    LEARN_MS = 2 * 86_400_000  # two days of drying and watering before EC is judged at its usual limit …
    BIN_MIN = 6  # readings a wetness bin needs before EC is judged there
    EARLY_K = NeighbourDrift.EARLY_K  # … before that, against this many times it: a probe can drift on day one
    MEMORY = 288  # readings per bin: the usual EC at a wetness follows salt building up over weeks
    SMOOTH = NeighbourDrift.SMOOTH
    SUSTAIN = NeighbourDrift.SUSTAIN
    CALM = NeighbourDrift.CALM
    RELEARN_MS = NeighbourDrift.RELEARN_DAYS * 86_400_000

    def __init__(self, wetness: str) -> None:
        self.wetness = wetness
        self.origin = EC_WETNESS_ORIGIN[wetness]
        self.watering = WATERING[wetness]
        self.level = [0.0] * EC_BINS  # ln EC usual at each wetness bin
        self.count = [0] * EC_BINS
        self.first_ts = -1
        self.smooth = 0.0
        self.over = 0
        self.calm = 0
        self.active = False
        self.active_since = -1
        self.hour_ago: deque[tuple[int, float]] = deque()  # (ts, wetness): the last hour's rising minima
        self.watered_ts = -1

    def update(self, ec: float, wetness: float, ts: int) -> bool:
        x = math.log(max(ec, 0.0) + 0.05)
        b = min(EC_BINS - 1, max(0, int(wetness - self.origin)))
        if self.first_ts < 0:
            self.first_ts = ts
        if self._watered(wetness, ts):
            self.watered_ts = ts
        early = ts - self.first_ts < self.LEARN_MS
        if self.count[b] < self.BIN_MIN:
            if not self.active:
                self._learn(b, x)
                return False
            # A drifting probe's readings would teach a wrong usual EC: judged instead against the
            # nearest wetness learned before, so a probe that recovers while the soil dries is seen to.
            b = self._nearest_known(b)
            if b < 0:
                return True
        floor = self.EARLY_K * EC_FLOOR if early else EC_FLOOR
        self.smooth += (x - self.level[b] - self.smooth) / self.SMOOTH
        size = abs(self.smooth)
        if ts - self.watered_ts < EC_SOAK_MS and not self.active:
            # Fertigation or a leaching rain moves EC at every wetness at once: follow it.
            if size > floor / 2:
                shift = self.smooth
                self.level = [v + shift for v in self.level]
                self.smooth = 0.0
            self.over = 0
            return False
        if self.active:
            self.calm = self.calm + 1 if size < floor / 2 else 0
            if self.calm >= self.CALM or ts - self.active_since > self.RELEARN_MS:
                if self.active_since - self.first_ts < self.LEARN_MS:
                    # Drifted while its usual EC was being learned: what was learned is suspect; start again.
                    self.level, self.count, self.first_ts = [0.0] * EC_BINS, [0] * EC_BINS, ts
                elif self.calm < self.CALM:  # lasted days: the probe's new normal
                    shift = self.smooth
                    self.level = [v + shift for v in self.level]
                self.active, self.over, self.calm, self.smooth = False, 0, 0, 0.0
            return self.active
        self.over = self.over + 1 if size > floor else 0
        if self.over >= self.SUSTAIN:
            self.active, self.active_since, self.calm = True, ts, 0
            return True
        # While judging early, only what is well inside the limit is learned: a drift's first hours must
        # not move the usual EC as far as the probe's recovery would have to come back (floor / 2).
        if size < (floor / 4 if early else floor / 2):
            self._learn(b, x)
        return False

    def _nearest_known(self, b: int) -> int:
        for d in range(1, EC_NEAR_BINS + 1):
            for c in (b - d, b + d):
                if 0 <= c < EC_BINS and self.count[c] >= self.BIN_MIN:
                    return c
        return -1

    def _learn(self, b: int, x: float) -> None:
        k = self.count[b] = self.count[b] + 1
        self.level[b] += (x - self.level[b]) / min(k, self.MEMORY)

    def _watered(self, wetness: float, ts: int) -> bool:
        # The hour's lowest wetness, kept as a rising queue: each reading enters and leaves it once.
        q = self.hour_ago
        while q and q[-1][1] >= wetness:
            q.pop()
        q.append((ts, wetness))
        while ts - q[0][0] > 3_600_000:
            q.popleft()
        return wetness - q[0][1] >= self.watering
