"""The default detector's score is an alerting score: one event is one alert, and stale predictions are forgiven."""

from __future__ import annotations

import random

from analytics.detectors.seasonal import SeasonalRobust

T0 = 1_700_000_000.0
STEP = 300.0


def _noise(n: int, seed: int, sd: float = 0.3) -> list[float]:
    rnd = random.Random(seed)
    return [10.0 + rnd.gauss(0.0, sd) for _ in range(n)]


def _scores(values: list[float], times: list[float]) -> list[float]:
    d = SeasonalRobust()
    return [d.update(v, t) for v, t in zip(values, times, strict=True)]


def test_a_persisting_excursion_scores_at_its_onset_and_a_larger_one_inside_it_scores_again() -> None:
    values = _noise(700, seed=1)
    for i in range(500, 520):  # 20 readings far off, then back
        values[i] += 6.0
    values[510] += 12.0  # a much larger jump while the first excursion lasts
    scores = _scores(values, [T0 + i * STEP for i in range(len(values))])
    assert scores[500] > 0.9
    assert [i for i in range(500, 520) if scores[i] > 0.5] == [500]  # one event, one alert
    assert scores[510] > 0.1  # what it adds to the excursion already reported


def test_a_move_after_a_long_gap_in_the_timestamps_is_judged_as_a_stale_prediction() -> None:
    values = _noise(400, seed=2)
    values[300] += 2.4  # 8 noise sd: an anomaly right after the last reading, not after a night
    regular = [T0 + i * STEP for i in range(len(values))]
    after_gap = [t + (8 * 3600.0 if i >= 300 else 0.0) for i, t in enumerate(regular)]
    assert _scores(values, regular)[300] > 0.5
    assert _scores(values, after_gap)[300] < 0.1


def test_on_a_zero_inflated_stream_routine_bursts_score_low_and_one_ten_times_larger_scores_high() -> None:
    # Like a load balancer's spare capacity: mostly exact zeros (median and spread 0), with a burst of
    # 0.1-3 about once an hour (5-minute rows); then one burst ten times larger than any before.
    rnd = random.Random(3)
    values = [rnd.uniform(0.1, 3.0) if rnd.random() < 0.08 else 0.0 for _ in range(3000)]
    burst_rows = [i for i in range(1000, 2990) if values[i] > 0.0]
    values[2995] = 30.0
    scores = _scores(values, [T0 + i * STEP for i in range(len(values))])
    burst_scores = sorted(scores[i] for i in burst_rows)
    assert len(burst_scores) > 100
    # Bursts the stream makes routinely: 4 in 5 score nothing, the largest of them (the top few per cent)
    # stay under an alert; a raw z score puts every one of them at ≈ 1 (median and spread are 0).
    assert burst_scores[int(0.8 * len(burst_scores))] == 0.0
    assert burst_scores[-1] < 0.5
    assert scores[2995] > 0.9
