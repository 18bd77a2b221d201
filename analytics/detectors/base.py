"""The one shape every detector has: `update(value, ts) -> score in [0, 1]` and `clone()`."""

from __future__ import annotations

import math
from typing import Protocol


class Detector(Protocol):
    """A streaming detector: each call sees one new value (and only the values before it)."""

    def update(self, value: float, ts: float) -> float:
        """Learn `value` observed at `ts` (seconds since the epoch); return its anomaly score in [0, 1]."""
        ...

    def clone(self) -> Detector:
        """A fresh, untrained detector with the same parameters."""
        ...


def z_to_score(z: float, z0: float = 3.0, width: float = 3.0) -> float:
    """Map a robust z (deviations in noise units) to [0, 1]: 0 up to z0, about 0.63 at z0 + width.

    Monotone and unit-free, so one alerting threshold on the score fits every stream.
    """
    if not z > z0:  # also catches NaN
        return 0.0
    return 1.0 - math.exp(-(z - z0) / width)


_LOG_BIN = 0.1  # histogram bins of ln m: a magnitude is resolved to about 10 %
_LOG_MIN = -24.0  # magnitudes from e^-24 ≈ 4e-11 of the reference unit (smaller ones are not recorded) ...
_BINS = 600  # ... up to e^36 ≈ 4e15 (larger ones share the top bin)


class TailRarity:
    """How rare a deviation is among the ones a stream has shown: a bounded, decaying histogram of the
    log of deviation magnitudes (in any fixed unit).

    Each `add` is O(1): the weight of a new entry grows by 1/(1 − 1/memory) instead of decaying the old
    ones, so the histogram forgets with a memory of about `memory` entries. `tail_share(m, z)` is the
    share of past entries at least `m` out, blended with the Gaussian tail of the same deviation in noise
    units `z` weighted as `prior_rows` entries, so a young stream is judged as Gaussian and its own
    record takes over as it grows.
    """

    def __init__(self, memory: int = 4096, prior_rows: int = 64) -> None:
        self._keep = 1.0 / (1.0 - 1.0 / max(memory, 2))
        self._prior = float(prior_rows)
        self._w = 1.0
        self._total = 0.0
        self._hist = [0.0] * _BINS

    def add(self, m: float) -> None:
        if not m >= 0.0:  # NaN
            return
        if m > 0.0:
            u = (math.log(m) - _LOG_MIN) / _LOG_BIN
            if u >= 0.0:
                self._hist[min(int(u), _BINS - 1)] += self._w
        self._total += self._w
        self._w *= self._keep
        if self._w > 1e100:  # rescale before the weights overflow; the shares are unchanged
            self._hist = [h / self._w for h in self._hist]
            self._total /= self._w
            self._w = 1.0

    def tail_share(self, m: float, z: float) -> float:
        """The estimated share of entries at least `m` out, `z` being the same deviation in noise units."""
        if not m > 0.0:
            return 1.0
        u = (math.log(m) - _LOG_MIN) / _LOG_BIN
        if u < 0.0:
            return 1.0
        b = min(int(u), _BINS - 1)
        # Entries as far out: the bins beyond, and the part of m's bin above it (spread evenly in ln m).
        above_in_bin = 1.0 - min(u - b, 1.0)
        at_least = (sum(self._hist[b + 1 :]) + above_in_bin * self._hist[b]) / self._w
        seen = self._total / self._w
        gauss = math.erfc(z / math.sqrt(2.0))
        return min(1.0, (at_least + self._prior * gauss) / (seen + self._prior))


def rarity_to_score(share: float, routine: float = 0.01, width_decades: float = 1.0) -> float:
    """Map the share of rows as far out to [0, 1]: 0 for what comes once in 1/`routine` rows or more
    often, about 0.63 for ten times rarer (`width_decades` decades)."""
    if not share < routine:
        return 0.0
    decades = math.log10(routine / max(share, 1e-300))
    return 1.0 - math.exp(-decades / width_decades)
