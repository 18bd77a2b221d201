"""Sensor-fault checks on one (node, quantity) stream (docs/agronomy.md §9, §11).

- implausible: outside the plausible range (contract or profile) or a known bad code (DS18B20 85.000);
- stuck: the same value for longer than the quantity's normal variability allows;
- spike: one reading far from both neighbours (robust z of the streaming detector, or a step beyond
  the quantity's rate-of-change limit), confirmed when the next reading comes back;
- drift, from physics where one applies: light at night (a light sensor reading daylight in the dark),
  soil pH moving faster than soil pH can (its hourly mean off its daily mean by `SLOW_DRIFT`);
- drift against neighbours: analytics/drift.py.
A reading that fails a check is kept out of the agronomic aggregates.
"""

from __future__ import annotations

import math
from typing import Final

from analytics.detectors.seasonal import SeasonalRobust

# §11: "identical reading for ≥ 6 consecutive samples on a quantity that normally fluctuates".
STUCK_SAMPLES: Final[dict[str, int]] = {
    "air_temp": 6, "air_humidity": 6, "dissolved_oxygen": 6, "water_temp": 6,
    "water_ph": 12, "soil_temp": 12, "soil_moisture": 24, "soil_ec": 24, "soil_ph": 24,
    "co2": 12, "nh3": 12, "water_level": 24, "battery_v": 48, "rssi": 48,
    "light": 12, "wind_speed": 12, "leaf_wetness": 24,
}
# Not judged by flatness: steady rain gives equal tip counts, and a blocked gauge reads 0, its resting value.
NO_STUCK: Final = frozenset({"rain"})
# Values at which a long flat run is normal: no light at night, no rain, calm, saturated air, dry/wet leaf.
NORMAL_FLAT: Final[dict[str, tuple[float, ...]]] = {
    "light": (0.0,), "rain": (0.0,), "wind_speed": (0.0,), "air_humidity": (100.0,), "leaf_wetness": (0.0, 100.0),
}
# §11 step limits: (largest change, over this many seconds).
STEP_LIMITS: Final[dict[str, tuple[float, float]]] = {
    "air_temp": (5.0, 60.0), "water_temp": (1.0, 60.0), "dissolved_oxygen": (2.0, 300.0),
    "water_ph": (0.5, 300.0), "soil_moisture": (15.0, 600.0),
}
# Known bad codes that may pass a range check: DS18B20 power-on reset value (§9).
SENTINELS: Final[dict[str, tuple[float, ...]]] = {"water_temp": (85.0,), "soil_temp": (85.0,), "air_temp": (85.0,)}
STUCK_MIN: Final = 6  # §11: never fewer identical readings than this
LEARN_SAMPLES: Final = 288  # about a day at 5-min readings: long enough to see the normal flat runs
# After learning, a run is stuck once a clean stream with this one's own repeat statistics would reach
# that length less than this often (runs per stream-week): about once in four years per quantity, so a
# node with ~10 quantities stays far below issue 5's one false alert per node-week (UNSOURCED ESTIMATE;
# the learned tail is only a model, and real streams have heavier tails than it: see docs/analytics.md).
STUCK_CLEAN_RUNS_PER_WEEK: Final = 0.005
# The chance a run goes on is learned from runs that reached this length: the overall repeat rate
# underestimates long runs, which come from the stream's calmest hours (a calm night's wind).
STUCK_TAIL_FROM: Final = 3
# ... and it is at least the local chance that a reading repeats the previous one, averaged over about
# this many recent run starts (the level now: wind 0.3 m/s at 0.1 m/s resolution repeats far more than
# 3 m/s) (UNSOURCED ESTIMATE: about two hours at 5-min readings).
STUCK_LOCAL_RUNS: Final = 24.0
# The tail's chance to go on starts at the plain repeat rate, weighted as this many tail runs: one
# chance long run (or a short stuck fault learned as natural) must not lift it much (UNSOURCED ESTIMATE).
STUCK_PRIOR_RUNS: Final = 10.0
WEEK_MS: Final = 7 * 86_400_000
# Light exactly 0 this long after the computed sunrise (or before sunset) is a dead sensor. The
# computed sunrise ignores the equation of time, so the true sun can rise up to 14 min later (February,
# [EoT]); half an hour after it the sun has been up ≥ 16 min, ≈ 3.5° at 21 °N. At sunrise a clear sky
# gives ≈ 400–585 lux and a fully overcast one ≈ 40 lux [AMS-TWILIGHT] [LUX-ORDERS]; a BH1750 resolves
# 1 lux. Only the darkest storm clouds (< 1 lux at sunrise [LUX-ORDERS]) could read 0 that early, for a
# reading or two (UNSOURCED ESTIMATE built on those figures; sources in docs/analytics.md).
LIGHT_DEAD_AT_ZERO_SUN_H: Final = 0.5
# Night for a light sensor: from half an hour after the computed sunset to half an hour before sunrise.
# The computed times are geometric (no refraction, about 4 min) and ignore the equation of time (up to
# 16.4 min), so by then the true sun has been down about 10 min or more (≈ 2° at 21 °N), and a clear
# sky gives far less than the 410–585 lux it gives at sunset [AMS-TWILIGHT]. Above `NIGHT_LIGHT_LUX` a light
# sensor is broken or drifting: moonlight is < 1 lux; 1000 lux leaves room for a lamp near the node
# (UNSOURCED ESTIMATE). It was an hour: a drifting sensor read daylight for half an hour more.
LIGHT_NIGHT_SUN_H: Final = 0.5
NIGHT_LIGHT_LUX: Final = 1000.0
# Quantities that cannot change fast: hourly mean this far from the daily mean = drift (UNSOURCED).
SLOW_DRIFT: Final[dict[str, float]] = {"soil_ph": 0.3}
SPIKE_HOLD_MS: Final = 1_800_000
SPIKE_Z: Final = 5.0  # a spike: this far from the local median, in noise units, …
SPIKE_RETURN: Final = 0.3  # … and the next reading back within this share of the jump;
SPIKE_Z_EXACT: Final = 2.5  # or a flat line broken by one reading it returns to exactly (0, 0 → x → 0) …
SPIKE_FLAT_STEPS: Final = 20  # … by a jump of at least this many resolution steps
# In the spike model's grace period (its first 48 readings) a spike is judged from the 12th reading on,
# against EARLY_SPIKE_K times the usual z (a probe can spike in its first hours too). UNSOURCED.
EARLY_SPIKE_FROM: Final = 12
EARLY_SPIKE_K: Final = 4.0
SPIKE_MIN_STEPS: Final = 5  # a spike is at least this many resolution steps (one rain tip is not a spike)
# Resolution before the stream has shown one: a tipping bucket's 0.2794 mm per tip (agronomy §9).
KNOWN_RESOLUTION: Final[dict[str, float]] = {"rain": 0.2794}
SPIKE_Z_BY_QUANTITY: Final[dict[str, float]] = {"wind_speed": 8.0}  # gusts are short by nature
GOOD_TO_CLEAR: Final = 3
# A reading more than this many usual intervals after the one before it comes after a gap (a dropout):
# the reading before the gap says nothing about it, so a spike there is judged by the two readings after.
GAP_INTERVALS: Final = 3


class SeriesFaults:
    """Fault state of one (node, quantity). `observe` returns the readings that are now known good."""

    def __init__(self, quantity: str) -> None:
        self.quantity = quantity
        self.detector = SeasonalRobust(scoring=False)  # only its noise and z are read here
        self.n = 0
        self.prev: float | None = None
        self.prev2: float | None = None
        self.prev_ts = 0
        self.res = KNOWN_RESOLUTION.get(quantity, math.inf)
        self.run = 1
        self.max_run = 1
        self.base = STUCK_SAMPLES.get(quantity, 12)
        self.stuck = False
        self.limit = self.base
        # Learned flat runs (those that ended without being called stuck, away from the normal flats):
        self.first_ts = -1
        self.runs = self.repeats = 0  # how many, and their readings after the first
        self.tail_runs = self.tail_more = 0  # those that reached STUCK_TAIL_FROM, and their readings beyond it
        self.go_on = 0.0  # chance a run that reached the tail goes on (conservative estimate)
        self.tail_per_week = 0.0  # how often a run reaches the tail
        self.local_repeat = 0.0
        self.tail_limit = -1
        self.implausible_ts = -1
        self.good_since_bad = GOOD_TO_CLEAR
        self.last_spike_ts = -1
        # ts, value, the value before it, its z, whether the two values before it were equal
        self.candidate: tuple[int, float, float, float, bool] | None = None
        self.interval = 0.0  # the usual time between readings, ms
        self.after_gap: list[tuple[int, float]] = []  # the first readings after a gap, until judged
        self.spike_z = SPIKE_Z_BY_QUANTITY.get(quantity, SPIKE_Z)
        self.physical_drift = False
        # A fault alert of this probe may be active (pending, firing, acknowledged, silenced): set by the
        # engine after each evaluation. True at first, so alerts restored from the state file get resolved.
        self.alerting = True
        self.night_glow = 0
        self.fast = self.slow = 0.0
        self.far = 0

    def implausible(self, ts: int) -> None:
        self.implausible_ts = ts
        self.good_since_bad = 0

    @property
    def is_implausible(self) -> bool:
        return self.good_since_bad < GOOD_TO_CLEAR

    def spike_active(self, now: int) -> bool:
        return self.last_spike_ts >= 0 and now - self.last_spike_ts < SPIKE_HOLD_MS

    def stuck_limit(self) -> int:
        """Readings of one value that make the current run stuck: the table's count while learning, then
        the length a clean run reaches less than STUCK_CLEAN_RUNS_PER_WEEK times a week, at least the §11
        six readings and longer than any natural run of this stream."""
        return self.limit

    def _learn_run(self, ts: int) -> None:
        """Learn a flat run that ended without being called stuck."""
        run = self.run
        self.runs += 1
        self.repeats += run - 1
        self.max_run = max(self.max_run, run)
        if run >= STUCK_TAIL_FROM:
            self.tail_runs += 1
            self.tail_more += run - STUCK_TAIL_FROM
        elif self.runs % 64 and self.tail_per_week > 0.0:
            return  # short runs move the estimates little: refresh them now and then
        span = ts - self.first_ts
        if self.n < LEARN_SAMPLES or span <= 0:
            return
        # P(a run that reached the tail goes one reading further): a geometric tail fitted to this
        # stream's own runs, pulled towards the plain repeat rate while few runs reached the tail, and
        # taken one standard error high: a short history must not make the limit short.
        p = self.repeats / (self.repeats + self.runs)
        more, stops = self.tail_more, self.tail_runs
        q = (more + STUCK_PRIOR_RUNS * p) / (more + stops + STUCK_PRIOR_RUNS)
        self.go_on = min(0.99, q + math.sqrt(q * (1.0 - q) / (more + stops + STUCK_PRIOR_RUNS)))
        self.tail_per_week = max(stops, 1) * WEEK_MS / span  # runs a week that reach the tail
        self.tail_limit = -1  # the limit for go_on, computed when next needed

    def _next_limit(self) -> int:
        """The limit for the run starting now, from the learned tail and the repeat rate of the last hours."""
        if self.n < LEARN_SAMPLES or self.tail_per_week <= 0.0:
            return self.base
        if self.local_repeat <= self.go_on:
            if self.tail_limit < 0:
                self.tail_limit = self._limit_for(self.go_on)
            return self.tail_limit
        return self._limit_for(self.local_repeat)

    def _limit_for(self, q: float) -> int:
        if self.tail_per_week <= STUCK_CLEAN_RUNS_PER_WEEK or q <= 0.0:
            need = STUCK_TAIL_FROM
        elif q >= 0.99:
            need = 4 * self.base
        else:
            # tail_per_week · q^(L − STUCK_TAIL_FROM) < STUCK_CLEAN_RUNS_PER_WEEK
            need = STUCK_TAIL_FROM + math.ceil(math.log(STUCK_CLEAN_RUNS_PER_WEEK / self.tail_per_week) / math.log(q))
        return max(STUCK_MIN, need, self.max_run + 1)

    def observe(self, ts: int, v: float, sun: float = 0.0) -> list[tuple[int, float]]:
        """Check one plausible reading; return the readings (this one or a held one) that are good.

        `sun` (light only): hours inside the day at the node (the nearer of sunrise and sunset), negative
        at night. Half an hour inside the day light 0 is a dead sensor; well inside the night it must be dark.
        """
        self.good_since_bad += 1
        self.n += 1
        if self.first_ts < 0:
            self.first_ts = ts
        good: list[tuple[int, float]] = []
        self._physical_drift(v, sun)
        # stuck
        at_rest = self.prev in NORMAL_FLAT.get(self.quantity, ())
        if self.prev is not None and self.run == 1 and not at_rest:
            # Only a run's first step: a frozen sensor's run must not teach that repeats are likely.
            self.local_repeat += ((v == self.prev) - self.local_repeat) / STUCK_LOCAL_RUNS
        if self.prev is not None and v == self.prev:
            self.run += 1
        else:
            # Learn every flat run that ended without being called stuck: natural flats keep the
            # limit above themselves however the stream's pace changes.
            if self.prev is not None and self.run < self.limit and not at_rest:
                self._learn_run(ts)
            self.run = 1
            self.limit = self._next_limit()
        dark_by_day = self.quantity == "light" and sun >= LIGHT_DEAD_AT_ZERO_SUN_H
        normal_flat = v in NORMAL_FLAT.get(self.quantity, ()) and not dark_by_day
        self.stuck = self.run >= self.stuck_limit() and not normal_flat and self.quantity not in NO_STUCK
        # spike: decide on the held candidate now that the next reading is here
        if self.candidate is not None:
            c_ts, c_v, before, c_z, flat = self.candidate
            self.candidate = None
            back = abs(v - before) < SPIKE_RETURN * abs(c_v - before) and c_z >= self.spike_z
            flat_broken = flat and v == before and abs(c_v - before) >= SPIKE_FLAT_STEPS * self.res
            if back or flat_broken:
                self.last_spike_ts = c_ts
                self.prev = before  # the way back from a spike is not a jump
            else:
                good.append((c_ts, c_v))
        noise = self.detector.noise  # as it was before this reading
        self.detector.update(v, ts / 1000.0)
        z = self.detector.last_z_short
        if not z and self.n >= EARLY_SPIKE_FROM:
            # The detector's first hours: its noise is a rough guess, so only a jump far beyond it counts.
            z = self.detector.raw_z_short / EARLY_SPIKE_K
        gap = self.interval > 0 and ts - self.prev_ts > GAP_INTERVALS * self.interval
        if self.after_gap:
            self._judge_after_gap(ts, v, noise, good)
        if gap:
            self.after_gap = [(ts, v)]  # held until the next two readings say whether it was a spike
        elif self.prev is not None and self._jump(ts, v, z, noise):
            self.candidate = (ts, v, self.prev, math.inf if z < SPIKE_Z_EXACT else z, self.prev2 == self.prev)
        elif not self.stuck:
            good.append((ts, v))
        if self.prev_ts:
            dt = ts - self.prev_ts
            if dt > 0 and not self.interval:
                self.interval = dt
            elif dt > 0:
                self.interval += (min(dt, 3 * self.interval) - self.interval) / 32
        if self.prev is not None and 0 < abs(v - self.prev) < self.res:
            self.res = abs(v - self.prev)
        self.prev2, self.prev, self.prev_ts = self.prev, v, ts
        return good

    def _physical_drift(self, v: float, sun: float) -> None:
        if self.quantity == "light":
            if sun <= -LIGHT_NIGHT_SUN_H:
                self.night_glow = self.night_glow + 1 if v > NIGHT_LIGHT_LUX else 0
                self.physical_drift = self.night_glow >= 3
            return
        limit = SLOW_DRIFT.get(self.quantity)
        if limit is None:
            return
        self.fast = v if self.n == 1 else self.fast + (v - self.fast) / 12.0
        if not self.physical_drift:
            self.slow = v if self.n == 1 else self.slow + (v - self.slow) / min(self.n, 288)
        off = abs(self.fast - self.slow)
        if self.n >= 288:
            self.far = self.far + 1 if off > limit else 0
            if self.far >= 3:
                self.physical_drift = True
            elif off < limit / 2:
                self.physical_drift = False

    def _judge_after_gap(self, ts: int, v: float, noise: float, good: list[tuple[int, float]]) -> None:
        """The first reading after a gap is a spike when the next two agree with each other and not with it."""
        held = self.after_gap
        held.append((ts, v))
        if len(held) < 3:
            return
        (t1, v1), (_t2, v2), (_t3, v3) = held
        self.after_gap = []
        jump = abs(v1 - v2)
        big = jump >= SPIKE_MIN_STEPS * self.res if self.res < math.inf else jump > 0
        if big and jump >= self.spike_z * noise and abs(v3 - v2) < SPIKE_RETURN * jump:
            self.last_spike_ts = t1
        elif not self.stuck:
            good.insert(0, (t1, v1))  # before the readings that came after it

    def _jump(self, ts: int, v: float, z_short: float, noise: float) -> bool:
        assert self.prev is not None
        step = abs(v - self.prev)
        limit = STEP_LIMITS.get(self.quantity)
        if limit is not None:
            max_step, per_s = limit
            dt = max((ts - self.prev_ts) / 1000.0, 1.0)
            allowed = max_step * max(dt, per_s) / per_s
            if step > allowed:
                return True
        # Far from the local median in units of the stream's own noise (the streaming detector's z).
        big = step >= SPIKE_MIN_STEPS * self.res if self.res < math.inf else step > 0
        return z_short >= SPIKE_Z_EXACT and step >= SPIKE_Z_EXACT * noise and big


def is_sentinel(quantity: str, v: float) -> bool:
    return v in SENTINELS.get(quantity, ())
