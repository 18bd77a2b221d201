"""The windowed (NAB) scoring arithmetic of bench/score_labelled.py on hand-made cases with known answers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bench.score_labelled import (
    PROFILES,
    LabelledFile,
    normalised,
    outcome_at,
    probation_rows,
    random_cut_forest,
    scaled_sigmoid,
    score_file,
    sweep,
    windowed_gaussian,
)

STANDARD = PROFILES["standard"]
WINDOW = (20, 29)  # rows 20..29: ten rows


def _detections(n: int, rows: list[int]) -> list[bool]:
    return [i in rows for i in range(n)]


def test_a_detection_at_the_window_start_earns_almost_a_full_true_positive() -> None:
    o = score_file(_detections(100, [20]), [WINDOW], probation=0)
    assert (o.tp, o.fp, o.fn) == (1, 0, 0)
    assert o.raw(STANDARD) == pytest.approx(0.9866, abs=1e-4)


def test_a_later_detection_in_the_window_earns_less_and_only_the_first_counts() -> None:
    early = score_file(_detections(100, [20]), [WINDOW], probation=0).raw(STANDARD)
    late = score_file(_detections(100, [28, 29]), [WINDOW], probation=0)
    assert (late.tp, late.fp) == (1, 0)
    assert late.raw(STANDARD) == pytest.approx(0.4621, abs=1e-4)  # 2 rows before the end: σ(−0.2)
    assert late.raw(STANDARD) < early


def test_a_detection_far_from_any_window_costs_a_false_positive_weight() -> None:
    before = score_file(_detections(100, [5]), [WINDOW], probation=0)
    long_after = score_file(_detections(100, [70]), [WINDOW], probation=0)  # 4 window lengths past the end
    for o in (before, long_after):
        assert (o.fp, o.fn) == (1, 1)
        assert o.raw(STANDARD) == pytest.approx(-0.11 - 1.0)


def test_a_detection_just_after_a_window_costs_less_than_a_full_false_positive() -> None:
    o = score_file(_detections(100, [20, 31]), [WINDOW], probation=0)
    assert o.fp == 1
    assert -0.11 < o.fp_weight * 0.11 < 0.0


def test_a_missed_window_costs_a_false_negative_and_probation_rows_are_not_scored() -> None:
    o = score_file(_detections(100, [3]), [WINDOW], probation=15)
    assert (o.tp, o.fp, o.fn) == (0, 0, 1)
    assert o.raw(STANDARD) == -1.0
    assert o.raw(PROFILES["reward_low_FN"]) == -2.0


def test_scores_are_normalised_between_the_null_and_the_perfect_detector() -> None:
    f = LabelledFile("g/a.csv", [0.0] * 100, [0.0] * 100, "", [WINDOW])
    assert normalised(-1.0, [f], STANDARD) == 0.0
    assert normalised(scaled_sigmoid(-1.0), [f], STANDARD) == pytest.approx(100.0)


def _random_corpus(seed: int) -> list[LabelledFile]:
    rnd = random.Random(seed)
    corpus = []
    for k in range(3):
        n = 300 + 50 * k
        f = LabelledFile(f"g/{k}.csv", [float(i) for i in range(n)], [0.0] * n, "", [(120, 140), (200 + k, 230)])
        f.scores["d"] = np.array([round(rnd.random() ** 8, 3) for _ in range(n)])
        corpus.append(f)
    return corpus



def test_the_threshold_sweep_agrees_with_scoring_each_threshold_alone() -> None:
    corpus = _random_corpus(3)
    cand, tp_w, fp_w, tp, fp, fn = sweep(corpus, "d")
    for i in range(0, len(cand), max(1, len(cand) // 25)):
        t = cand[i]
        outs = [score_file(list(f.scores["d"] >= t), f.windows, probation_rows(len(f.ts))) for f in corpus]
        assert tp[i] == sum(o.tp for o in outs) and fp[i] == sum(o.fp for o in outs)
        assert fn[i] == sum(o.fn for o in outs)
        assert tp_w[i] + 0.11 * fp_w[i] == pytest.approx(sum(o.tp_weight + 0.11 * o.fp_weight for o in outs))


def test_the_windowed_gaussian_baseline_scores_an_outlier_near_one() -> None:
    rnd = random.Random(4)
    values = [rnd.gauss(10.0, 1.0) for _ in range(500)]
    values[400] = 30.0
    s = windowed_gaussian(values)
    assert s[0] == 0.0 and s[400] > 0.999999
    assert np.median(s[100:]) < 0.9


def test_a_group_outcome_at_a_fixed_threshold_agrees_with_scoring_its_files_alone() -> None:
    corpus = _random_corpus(5)
    for t in (0.0005, 0.01, 0.123, 0.5, 0.999, 2.0):  # between, on and beyond the scored values
        tp_w, fp_w, tp, fp, fn = outcome_at(corpus, "d", t)
        outs = [score_file(list(f.scores["d"] >= t), f.windows, probation_rows(len(f.ts))) for f in corpus]
        assert (tp, fp, fn) == (sum(o.tp for o in outs), sum(o.fp for o in outs), sum(o.fn for o in outs))
        assert tp_w == pytest.approx(sum(o.tp_weight for o in outs))
        assert fp_w == pytest.approx(sum(o.fp_weight for o in outs))


def test_the_random_cut_forest_scores_an_isolated_outlier_highest_and_stays_in_0_1() -> None:
    pytest.importorskip("rrcf")
    rnd = random.Random(6)
    values = [rnd.gauss(10.0, 1.0) for _ in range(400)]
    values[300] = 30.0
    s = random_cut_forest(values, trees=8, tree_size=64, seed=1)
    assert len(s) == 400
    assert np.all((s >= 0.0) & (s <= 1.0))
    assert int(np.argmax(s[100:])) + 100 == 300
    assert s[300] > 5 * np.median(s[100:])


def test_the_random_cut_forest_handles_repeated_values_and_is_reproducible_by_seed() -> None:
    pytest.importorskip("rrcf")
    values = [float(i % 17) for i in range(300)]  # many repeated values: duplicate leaves in the trees
    a = random_cut_forest(values, trees=4, tree_size=32, seed=3)
    b = random_cut_forest(values, trees=4, tree_size=32, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, random_cut_forest(values, trees=4, tree_size=32, seed=4))
