"""Every registered detector keeps the shared contract; the default one scores known signals right."""

from __future__ import annotations

import math
import random

import pytest

from analytics.detectors import DEFAULT, DETECTORS, make

T0 = 1_700_000_000.0
STEP = 300.0


def _noise(n: int, seed: int = 1, sd: float = 1.0) -> list[float]:
    rnd = random.Random(seed)
    return [rnd.gauss(0.0, sd) for _ in range(n)]


def _run(det_name: str, values: list[float]) -> list[float]:
    d = make(det_name)
    return [d.update(v, T0 + i * STEP) for i, v in enumerate(values)]


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_detector_scores_in_unit_interval_and_zero_in_grace(name: str) -> None:
    values = [v * 50 + 1e4 for v in _noise(600)] + [1e9, -1e9, math.nan, math.inf]
    scores = _run(name, values)
    assert len(scores) == len(values)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[:20] == [0.0] * 20


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_a_clone_is_fresh_and_behaves_like_a_new_detector(name: str) -> None:
    values = _noise(300, seed=3)
    trained = make(name)
    for i, v in enumerate(values):
        trained.update(v, T0 + i * STEP)
    fresh, clone = make(name), trained.clone()
    assert [clone.update(v, T0 + i * STEP) for i, v in enumerate(values)] == [
        fresh.update(v, T0 + i * STEP) for i, v in enumerate(values)
    ]


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_score_does_not_depend_on_the_unit_of_the_stream(name: str) -> None:
    values = [v + (8.0 if i == 400 else 0.0) for i, v in enumerate(_noise(500, seed=4))]
    a = _run(name, values)
    b = _run(name, [v * 1000.0 + 273.15 for v in values])
    assert a == pytest.approx(b, abs=1e-6)


def test_default_detector_gives_white_noise_low_scores() -> None:
    scores = _run(DEFAULT, _noise(5000, seed=5))
    assert sum(s > 0.5 for s in scores) <= 2


def test_default_detector_flags_a_spike() -> None:
    values = _noise(1000, seed=6, sd=0.3)
    values[700] += 5.0
    scores = _run(DEFAULT, values)
    assert scores[700] > 0.9
    assert max(scores[710:]) < 0.5


def test_default_detector_flags_a_level_shift_then_relearns_it() -> None:
    values = _noise(1500, seed=7, sd=0.3)
    for i in range(800, 1500):
        values[i] += 4.0
    scores = _run(DEFAULT, values)
    assert scores[800] > 0.8
    assert max(scores[1000:]) < 0.5


def test_default_detector_learns_a_daily_cycle_and_then_sees_a_break_in_it() -> None:
    # 5-min samples of a strong daily cycle: after a few days only the broken cycle stands out.
    n = 288 * 8
    noise = _noise(n, seed=8, sd=0.2)
    values = [10 + 5 * math.sin(2 * math.pi * (i % 288) / 288) + noise[i] for i in range(n)]
    for i in range(288 * 6 + 100, 288 * 6 + 112):
        values[i] += 3.0  # a contextual anomaly: inside the normal range, outside the day's shape
    scores = _run(DEFAULT, values)
    assert max(scores[288 * 3 : 288 * 6]) < 0.5
    assert max(scores[288 * 6 + 100 : 288 * 6 + 104]) > 0.6


def test_default_detector_ignores_missing_values_without_learning_them() -> None:
    d = make(DEFAULT)
    for i, v in enumerate(_noise(200, seed=9)):
        d.update(v, T0 + i * STEP)
    assert d.update(math.nan, T0 + 200 * STEP) == 0.0
    assert d.update(0.1, T0 + 201 * STEP) < 0.5
