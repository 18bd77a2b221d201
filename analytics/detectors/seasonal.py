"""The default detector: robust local level with a learned daily profile and level-shift re-learning.

Built for streams it knows nothing about (no unit, no name, any scale):
- the prediction for the next value is the median of the last few values, so one outlier never moves
  it and a persistent level shift is followed after half a window;
- the noise scale is an exponentially weighted mean absolute residual whose updates are clipped, so
  anomalies are not learned as normal (river's `ThresholdFilter(protect=True)` idea);
- when timestamps show at least 12 samples a day, a daily profile (mean deviation from the daily level
  per time-of-day bin) is learned and the residuals of the de-seasonalised stream are used whenever
  they have been the better predictor recently;
- a long robust window (median and inter-quartile range) scores slow departures from the recent
  level; after `shift_run` consecutive departures it is re-learned from the recent values, so a
  persistent level shift is flagged at its onset and then accepted as the new normal.
The score is built for alerting on streams of any cadence:
- after a gap in the timestamps longer than twice the usual interval, the deviation is judged with the
  uncertainty a stale prediction has (z divided by √(gap / (2 × usual interval))), so
  the first reading after a night without data is not an anomaly for having moved;
- an excursion is scored at its onset: each row scores only what it adds to the anomaly already reported
  (the score of the rows before, fading by `fade` a row), so one persisting event is one alert, not a run of
  them, and a larger second event inside it still scores.
- the score says how RARE the deviation is for this stream, not only how many noise units it is: it is
  capped by the share of past excursion onsets and normal rows at least as far out (a decaying
  histogram of log magnitudes over about `rare_memory` rows, `analytics.detectors.base.TailRarity`,
  with the Gaussian tail of z weighted as `prior_rows` rows while the record is young): what comes once
  in 100 rows or more often scores 0, ten times rarer about 0.63. Magnitudes are kept in the noise unit
  the stream had after the grace period, so a change of the unit (on a mostly-zero stream it is the
  smallest step seen so far) does not make routine bursts look new. On a clean stream the cap rarely
  bites; on a zero-inflated or bursty one (median and spread 0, news bursts every day) a burst the
  stream produces routinely scores low, and one beyond what it has rarely shown scores high.
The score is 0 during the grace period.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from typing import Any

from analytics.detectors.base import TailRarity, rarity_to_score, z_to_score

DAY_S = 86400.0


class SeasonalRobust:
    def __init__(
        self,
        grace: int = 48,
        short: int = 7,
        long: int = 256,
        day_bins: int = 48,
        profile_days: float = 7.0,
        shift_run: int = 12,
        scale_memory: int = 200,
        z0: float = 3.5,
        fade: float = 0.9,
        rare_memory: int = 4096,
        prior_rows: int = 64,
        scoring: bool = True,
    ) -> None:
        self._params: dict[str, Any] = {
            "grace": grace, "short": short, "long": long, "day_bins": day_bins,
            "profile_days": profile_days, "shift_run": shift_run, "scale_memory": scale_memory, "z0": z0,
            "fade": fade, "rare_memory": rare_memory, "prior_rows": prior_rows, "scoring": scoring,
        }
        self.grace = grace
        self.long = long
        self.day_bins = day_bins
        self.profile_days = profile_days
        self.shift_run = shift_run
        self.scale_memory = scale_memory
        self.z0 = z0
        self.fade = fade
        self.n = 0
        self.last_z = 0.0
        self.last_z_short = 0.0
        self.raw_z_short = 0.0
        self._last_ts: float | None = None
        self._dts: list[float] = []
        self._dt_med = 0.0
        self._gap = 1.0
        self._reported = 0.0
        self._bins = 0
        self._per_bin_day = 1.0
        self._prof: list[float] = []
        self._prof_n: list[int] = []
        self._level: float | None = None
        self._level_alpha = 0.0
        self._first_ts: float | None = None
        self._short_raw: deque[float] = deque(maxlen=short)
        self._short_adj: deque[float] = deque(maxlen=short)
        self._err_raw = 0.0
        self._err_adj = 0.0
        self._scale_raw = 0.0
        self._scale_adj = 0.0
        self._sorted: list[float] = []
        self._fifo: deque[float] = deque()
        self._recent: deque[float] = deque(maxlen=shift_run)
        self._run = 0
        self._res = math.inf
        self._prev: float | None = None
        self._prev_zg = 0.0
        self._ref_unit = 0.0
        self._rarity = TailRarity(memory=rare_memory, prior_rows=prior_rows)
        # The learned noise scale (standard-deviation units) of one-step residuals, as of the last update;
        # an attribute, not a property: the live checks read it for every reading.
        self.noise = 0.0
        # The live sensor checks read only `noise` and the short z: without `scoring` neither the score
        # (and its rarity record) nor the long window that only the score reads is kept.
        self.scoring = scoring

    def clone(self) -> SeasonalRobust:
        return SeasonalRobust(**self._params)

    # -- sampling interval and daily profile ---------------------------------------------------------

    def _learn_interval(self, ts: float) -> None:
        if self._first_ts is None:
            self._first_ts = ts
        self._gap = 1.0
        if self._last_ts is not None:
            dt = ts - self._last_ts
            if self._dt_med > 0 and dt > 2 * self._dt_med:
                self._gap = math.sqrt(dt / (2 * self._dt_med))
        if self._last_ts is not None and self._bins == 0 and len(self._dts) < 32:
            dt = ts - self._last_ts
            if dt > 0:
                self._dts.append(dt)
                if len(self._dts) == 32:
                    dt_med = sorted(self._dts)[16]
                    self._dt_med = dt_med
                    per_day = DAY_S / dt_med
                    if per_day >= 12:
                        self._bins = int(min(self.day_bins, per_day))
                        self._per_bin_day = per_day / self._bins
                        self._prof = [0.0] * self._bins
                        self._prof_n = [0] * self._bins
                        self._level_alpha = min(1.0, dt_med / DAY_S)
        self._last_ts = ts

    def _profile_ready(self, ts: float) -> bool:
        return self._bins > 0 and self._first_ts is not None and ts - self._first_ts >= 1.5 * DAY_S

    # -- the update ----------------------------------------------------------------------------------

    def update(self, value: float, ts: float) -> float:
        x = float(value)
        if not math.isfinite(x):
            self.last_z = 0.0
            return 0.0
        self.n += 1
        self._learn_interval(ts)

        b = -1
        p = 0.0
        if self._bins:
            b = int((ts % DAY_S) / DAY_S * self._bins) % self._bins
            if self._prof_n[b] >= 2 and self._profile_ready(ts):
                p = self._prof[b]
        y = x - p
        floor = max(self._res if self._res < math.inf else 0.0, 1e-9 * (abs(x) + 1.0))
        unit = max(1.2533 * self._scale_raw, floor)

        z_short = 0.0
        r_raw = r_adj = 0.0
        k = len(self._short_raw)
        if k >= 3:
            raw, adj, mid = sorted(self._short_raw), sorted(self._short_adj), k // 2
            if k % 2:
                r_raw, r_adj = x - raw[mid], y - adj[mid]
            else:
                r_raw, r_adj = x - 0.5 * (raw[mid - 1] + raw[mid]), y - 0.5 * (adj[mid - 1] + adj[mid])
            use_adj = self._profile_ready(ts) and self._err_adj < 0.9 * self._err_raw
            r, scale = (r_adj, self._scale_adj) if use_adj else (r_raw, self._scale_raw)
            z_short = abs(r) / max(1.2533 * scale, floor)

        z_long = 0.0
        m = len(self._sorted)
        if m >= 64:  # never without `scoring`: the long window is not kept
            med = self._sorted[m // 2]
            iqr = self._sorted[(3 * m) // 4] - self._sorted[m // 4]
            spread = max(iqr / 1.349, 1.2533 * max(self._scale_raw, self._scale_adj), floor)
            z_long = abs(y - med) / spread

        self._learn(x, y, b, r_raw, r_adj, z_short, z_long)
        # The resolution floor is what the stream showed before this value: a first step out of a flat
        # line is judged against the flat line, not against itself.
        if self._prev is not None:
            d = abs(x - self._prev)
            if 0.0 < d < self._res:
                self._res = d
        self._prev = x
        self.noise = max(1.2533 * self._scale_raw, self._res if self._res < math.inf else 0.0)
        z = max(z_short, 0.7 * z_long)
        self.last_z = z
        self.last_z_short = z_short if self.n > self.grace else 0.0
        self.raw_z_short = z_short  # also in the grace period, against a noise scale still being learned
        if not self.scoring:
            return 0.0
        zg = z / self._gap
        # How rare this deviation is among the stream's own (judged before it is learned). The record is
        # kept in the noise unit the stream had when it began (so unit-free), not in today's: on a
        # mostly-zero stream the unit is the smallest step seen so far, and one smaller step would
        # otherwise make every later burst look twice as large as the ones before.
        if self._ref_unit == 0.0 and self.n > self.grace:
            self._ref_unit = unit
        mag = zg * unit / self._ref_unit if self._ref_unit > 0.0 else zg
        score_z = z_to_score(zg, self.z0)
        score = score_z
        if score > 0.0:  # no more than how rare a deviation this far out is for this stream
            score = min(score, rarity_to_score(self._rarity.tail_share(mag, zg)))
        # The record counts events, not rows: the rows that carry an excursion on are left out, so a
        # long one does not make itself routine.
        onset = self._prev_zg <= self.z0
        self._prev_zg = zg
        if self.n <= self.grace:  # the noise scale is still being learned: z is not yet the stream's
            return 0.0
        if onset:
            self._rarity.add(mag)
        # Only what this row adds to the excursion already reported counts (one event, one alert);
        # the rows that carry an excursion on count as reported at the size of their deviation.
        out = max(0.0, score - self._reported)
        self._reported = max(self._reported * self.fade, score if onset else score_z)
        return out

    def _learn(self, x: float, y: float, b: int, r_raw: float, r_adj: float, z_short: float, z_long: float) -> None:
        a = 1.0 / min(self.n, self.scale_memory)
        if len(self._short_raw) >= 3:
            cap_raw = 4.0 * self._scale_raw if self.n > 8 and self._scale_raw > 0 else math.inf
            cap_adj = 4.0 * self._scale_adj if self.n > 8 and self._scale_adj > 0 else math.inf
            self._scale_raw += a * (min(abs(r_raw), cap_raw) - self._scale_raw)
            self._scale_adj += a * (min(abs(r_adj), cap_adj) - self._scale_adj)
            self._err_raw += a * (min(abs(r_raw), cap_raw) - self._err_raw)
            self._err_adj += a * (min(abs(r_adj), cap_adj) - self._err_adj)
        self._short_raw.append(x)
        self._short_adj.append(y)

        if self._bins and b >= 0:
            if self._level is None:
                self._level = x
            else:
                self._level += self._level_alpha * (x - self._level)
            if z_short < 6.0:  # anomalies do not shape the profile
                k = self._prof_n[b] + 1
                self._prof_n[b] = k
                self._prof[b] += (x - self._level - self._prof[b]) / min(k, self.profile_days * self._per_bin_day)

        if not self.scoring:
            return
        insort(self._sorted, y)
        self._fifo.append(y)
        if len(self._fifo) > self.long:
            old = self._fifo.popleft()
            del self._sorted[bisect_left(self._sorted, old)]
        self._recent.append(y)
        self._run = self._run + 1 if z_long > 4.0 else 0
        if self._run >= self.shift_run:
            # A persistent departure is a new level: forget the old one.
            self._fifo = deque(self._recent)
            self._sorted = sorted(self._recent)
            self._run = 0
