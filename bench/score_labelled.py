"""`analytics score` on labelled real-world streams, scored the Numenta Anomaly Benchmark way (issue 5).

    .venv/bin/python bench/score_labelled.py DIR [--detector seasonal] [--detector ewma] [--per-file]
        [--files SUBSTRING ...] [--rcf-trees 100] [--rcf-seed 0]

DIR is laid out like NAB: `DIR/data/<group>/<name>.csv` (`timestamp,value`) and
`DIR/labels/combined_windows.json` (`{"<group>/<name>.csv": [[start, end], ...]}`); files without a
label entry, and label entries without a file, are skipped. Each detector scores every file through
the same `analytics.score.score_stream` path as `ruongso analytics score`; two classic baselines are
computed here in the same run for comparison: NAB's windowed Gaussian, and a Random Cut Forest set up
like NAB's RCF entry (`random_cut_forest`, needs the `rrcf` package of the `dev` extra; `--rcf-trees 0`
skips it). Scores are given for the whole corpus and for each NAB group at the corpus threshold.

The scoring is written from the NAB paper's description (Lavin & Ahmad 2015, "Evaluating Real-time
Anomaly Detection Algorithms"), not from its code:
- a row is a detection when its score ≥ the threshold; rows of the probationary period (the first 15 %
  of a file, at most 750 rows) are never scored;
- in each anomaly window only the first detection counts: + A_TP × σ(position), where the position
  runs from −1 at the window's first row to 0 past its last and σ(p) = 2/(1 + e^(5p)) − 1, so an early
  detection earns ≈ A_TP and one at the end ≈ 0; a window without a detection costs A_FN;
- every detection outside the windows costs A_FP: fully before any window or more than three window
  lengths after the last one, less right after a window (−A_FP × σ of its distance past the end);
- the raw score is summed over the corpus, the threshold chosen per detector and profile to maximise
  it, and normalised so the null detector (no detection) scores 0 and the perfect one 100.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.detectors import DEFAULT, DETECTORS
from analytics.score import parse_timestamp, score_stream

if TYPE_CHECKING:
    import rrcf

# Application profiles of the NAB paper: weights of a true positive, false positive, false negative.
PROFILES: Final[dict[str, tuple[float, float, float]]] = {
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP": (1.0, 0.22, 1.0),
    "reward_low_FN": (1.0, 0.11, 2.0),
}
PROBATION: Final = 0.15
PROBATION_CAP_ROWS: Final = 750  # 15 % of 5000 rows: long files are not given a longer warm-up
BASELINE: Final = "windowed-gaussian"
RCF: Final = "random-cut-forest"
# NAB's RCF entry (nab/detectors/random_cut_forest/random_cut_forest.sql): 100 trees of 256 points,
# shingle size 1, time decay 100 000 (longer than any NAB file, so a near-uniform sample of the past).
RCF_TREES: Final = 100
RCF_TREE_SIZE: Final = 256
PUBLISHED_STANDARD: Final = {"Random Cut Forest": 51.7, "Twitter ADVec": 47.1, "windowed Gaussian": 39.6}


def scaled_sigmoid(position: float) -> float:
    """Weight of a detection at `position` window lengths from a window's end: +0.987 at −1, 0 at 0, → −1."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n: int) -> int:
    return min(int(PROBATION * n), PROBATION_CAP_ROWS)


@dataclass(frozen=True)
class Outcome:
    """One threshold's result on one file or the corpus, by weight (TP, FP, FN are counts)."""

    tp_weight: float  # sum of σ(position) of the windows' first detections
    fp_weight: float  # sum of the (negative) weights of detections outside windows
    tp: int
    fp: int
    fn: int

    def raw(self, profile: tuple[float, float, float]) -> float:
        a_tp, a_fp, a_fn = profile
        return a_tp * self.tp_weight + a_fp * self.fp_weight - a_fn * self.fn


def fp_weights(n: int, windows: Sequence[tuple[int, int]]) -> list[float]:
    """Per row: the (negative, unit A_FP) weight of a detection there, or 0 inside a window."""
    out = [-1.0] * n
    for a, b in windows:
        length = b - a + 1
        for i in range(a, b + 1):
            out[i] = 0.0
        nxt = min((a2 for a2, _ in windows if a2 > b), default=n)
        for i in range(b + 1, nxt):
            out[i] = scaled_sigmoid((i - b) / length)
    return out


def score_file(detected: Sequence[bool], windows: Sequence[tuple[int, int]], probation: int) -> Outcome:
    """Score one file's detections (one bool per row) against its windows (first, last row, inclusive)."""
    weights = fp_weights(len(detected), windows)
    tp_w = 0.0
    tp = fn = 0
    for a, b in windows:
        first = next((i for i in range(max(a, probation), b + 1) if detected[i]), None)
        if first is None:
            fn += 1
        else:
            tp += 1
            tp_w += scaled_sigmoid(-(b - first + 1) / (b - a + 1))
    fp_rows = [i for i in range(probation, len(detected)) if detected[i] and weights[i] != 0.0]
    return Outcome(tp_w, sum(weights[i] for i in fp_rows), tp, len(fp_rows), fn)


@dataclass
class LabelledFile:
    name: str
    ts: list[float]
    values: list[float]
    text: str
    windows: list[tuple[int, int]]
    scores: dict[str, np.ndarray] = field(default_factory=dict)


def _window_rows(ts: Sequence[float], start: float, end: float) -> tuple[int, int] | None:
    idx = [i for i, t in enumerate(ts) if start <= t <= end]
    return (idx[0], idx[-1]) if idx else None


def load_corpus(root: Path) -> list[LabelledFile]:
    labels_path = root / "labels" / "combined_windows.json"
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: cannot read labels {labels_path}: {exc}") from None
    corpus = []
    for rel, wins in sorted(labels.items()):
        path = root / "data" / rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        ts = [parse_timestamp(r["timestamp"]) for r in rows]
        values = [float(r["value"]) for r in rows]
        windows = [w for s, e in wins if (w := _window_rows(ts, parse_timestamp(s), parse_timestamp(e)))]
        corpus.append(LabelledFile(rel, ts, values, text, windows))
    return corpus


def run_detector(f: LabelledFile, name: str) -> np.ndarray:
    out = io.StringIO()
    score_stream(io.StringIO(f.text), out, f.name, name)
    return np.array([float(r["anomaly_score"]) for r in csv.DictReader(io.StringIO(out.getvalue()))])


def windowed_gaussian(values: Sequence[float], window: int = 6400, step: int = 100) -> np.ndarray:
    """NAB's classic baseline: mean and standard deviation of the last `window` values (refreshed every
    value while the window fills, then every `step` values), score = 1 − upper tail probability of |z|."""
    x = np.asarray(values, dtype=float)
    out = np.zeros(len(x))
    mean, sd = 0.0, 1.0
    for i in range(len(x)):
        if i > 0:
            z = abs(x[i] - mean) / sd
            out[i] = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        seen = i + 1
        if seen <= window or (seen - window) % step == 0:
            w = x[max(0, seen - window):seen]
            mean = float(w.mean())
            sd = float(w.std()) or 1e-6
    return out


def random_cut_forest(values: Sequence[float], trees: int = RCF_TREES, tree_size: int = RCF_TREE_SIZE,
                      seed: int = 0) -> np.ndarray:
    """A robust random cut forest scored the way NAB's RCF entry ran (streaming, shingle size 1): each value
    is inserted into every tree, scored by its collusive displacement (CoDisp) averaged over the trees and
    divided by the tree size (so in [0, 1]), and kept in a tree's sample with probability
    tree_size / values seen (reservoir sampling: NAB's time decay was longer than its files)."""
    try:
        import rrcf
    except ImportError:
        raise SystemExit("error: the Random Cut Forest baseline needs the rrcf package "
                         "(pip install -e '.[dev]'), or pass --rcf-trees 0") from None
    rng = np.random.default_rng(seed)
    forest: list[rrcf.RCTree] = [rrcf.RCTree(random_state=int(rng.integers(2**31))) for _ in range(trees)]
    out = np.zeros(len(values))
    for i, v in enumerate(values):
        point = np.array([v], dtype=float)
        total = 0.0
        for tree in forest:
            tree.insert_point(point, index=i)
            total += tree.codisp(i)
            if len(tree.leaves) > tree_size:
                if rng.random() < tree_size / (i + 1):
                    tree.forget_point(_random_key(tree, i, rng))
                else:
                    tree.forget_point(i)
        out[i] = min(1.0, total / trees / tree_size)
    return out


def _random_key(tree: rrcf.RCTree, newest: int, rng: np.random.Generator) -> int:
    keys = [k for k in tree.leaves if k != newest]
    return int(keys[int(rng.integers(len(keys)))])


Sweep = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def sweep(corpus: Sequence[LabelledFile], name: str) -> Sweep:
    """For every candidate threshold (each distinct scored value, and +inf): TP weight, FP weight, TP, FP, FN."""
    scored = [f.scores[name][probation_rows(len(f.ts)):] for f in corpus]
    cand = np.unique(np.concatenate([*scored, [np.inf]]))
    tp_w = np.zeros(len(cand))
    fp_w = np.zeros(len(cand))
    tp = np.zeros(len(cand), dtype=int)
    fp = np.zeros(len(cand), dtype=int)
    fn = np.zeros(len(cand), dtype=int)
    for f in corpus:
        s = f.scores[name]
        p = probation_rows(len(s))
        w = np.asarray(fp_weights(len(s), f.windows))
        outside = np.arange(len(s)) >= p
        outside &= w != 0.0
        order = np.argsort(-s[outside], kind="stable")
        desc, wdesc = s[outside][order], w[outside][order]
        # Detections outside windows at threshold t: every row with score ≥ t.
        k = len(desc) - np.searchsorted(desc[::-1], cand, side="left")
        cw = np.concatenate([[0.0], np.cumsum(wdesc)])
        fp_w += cw[k]
        fp += k
        for a, b in f.windows:
            a0 = max(a, p)
            if a0 > b:
                fn += 1
                continue
            prefix = np.maximum.accumulate(s[a0:b + 1])
            j = np.searchsorted(prefix, cand, side="left")  # first row whose score reaches t
            hit = j <= b - a0
            pos = -(b - (a0 + np.minimum(j, b - a0)) + 1) / (b - a + 1)
            tp_w += np.where(hit, 2.0 / (1.0 + np.exp(5.0 * pos)) - 1.0, 0.0)
            tp += hit
            fn += ~hit
    return cand, tp_w, fp_w, tp, fp, fn


def group_of(f: LabelledFile) -> str:
    return f.name.split("/")[0]


def outcome_at(corpus: Sequence[LabelledFile], name: str, threshold: float) -> tuple[float, float, int, int, int]:
    """TP weight, FP weight, TP, FP, FN of `name` over `corpus` at a fixed threshold (detections: score ≥ it)."""
    cand, tp_w, fp_w, tp, fp, fn = sweep(corpus, name)
    # The smallest candidate ≥ threshold makes the same detections as the threshold itself.
    i = min(int(np.searchsorted(cand, threshold, side="left")), len(cand) - 1)
    return float(tp_w[i]), float(fp_w[i]), int(tp[i]), int(fp[i]), int(fn[i])


def normalised(raw: float, corpus: Sequence[LabelledFile], profile: tuple[float, float, float]) -> float:
    n_windows = sum(len(f.windows) for f in corpus)
    null = -profile[2] * n_windows
    perfect = profile[0] * scaled_sigmoid(-1.0) * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def _threshold(t: float) -> str:
    # The Gaussian tail score crowds just under 1: show how far under.
    return f"1-{1 - t:.1e}" if 0.999 < t < 1 else f"{t:.4f}"


def report(corpus: Sequence[LabelledFile], names: Sequence[str], per_file: bool) -> None:
    print(f"{'profile':<15}{'detector':<19}{'NAB score':>10}{'threshold':>11}{'TP':>5}{'FP':>6}{'FN':>5}")
    best: dict[tuple[str, str], float] = {}
    for prof_name, prof in PROFILES.items():
        for name in names:
            cand, tp_w, fp_w, tp, fp, fn = sweep(corpus, name)
            raw = prof[0] * tp_w + prof[1] * fp_w - prof[2] * fn
            i = int(np.argmax(raw))
            best[(prof_name, name)] = float(cand[i])
            print(f"{prof_name:<15}{name:<19}{normalised(float(raw[i]), corpus, prof):>10.1f}"
                  f"{_threshold(float(cand[i])):>11}{tp[i]:>5}{fp[i]:>6}{fn[i]:>5}")
    print("published NAB v1 scoreboard, standard profile, full corpus: "
          + ", ".join(f"{k} {v}" for k, v in PUBLISHED_STANDARD.items()) + ", null 0")
    groups = sorted({group_of(f) for f in corpus})
    if len(groups) > 1:
        print("\nper group at each detector's corpus threshold (normalised within the group; TP/FP/FN)")
        print(f"{'group':<22}{'files':>6}{'win':>5}  {'detector':<19}"
              + "".join(f"{p:>24}" for p in PROFILES))
        for g in groups:
            members = [f for f in corpus if group_of(f) == g]
            n_win = sum(len(f.windows) for f in members)
            for name in names:
                cells = []
                for prof_name, prof in PROFILES.items():
                    g_tpw, g_fpw, g_tp, g_fp, g_fn = outcome_at(members, name, best[(prof_name, name)])
                    g_raw = prof[0] * g_tpw + prof[1] * g_fpw - prof[2] * g_fn
                    cells.append(f"{normalised(g_raw, members, prof):>7.1f} {g_tp:>3}/{g_fp:>3}/{g_fn:>3}")
                print(f"{g:<22}{len(members):>6}{n_win:>5}  {name:<19}" + "".join(f"{c:>24}" for c in cells))
    if per_file:
        prof = PROFILES["standard"]
        print("\nper file, standard profile at each detector's corpus threshold (raw score, TP/FP/FN)")
        for f in corpus:
            cells = []
            for name in names:
                s = f.scores[name]
                o = score_file(list(s >= best[("standard", name)]), f.windows, probation_rows(len(s)))
                cells.append(f"{name} {o.raw(prof):+6.2f} {o.tp}/{o.fp}/{o.fn}")
            print(f"  {f.name:<58}{len(f.windows)} win  " + "   ".join(cells))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", type=Path, help="directory with data/<group>/<name>.csv and labels/combined_windows.json")
    p.add_argument("--detector", action="append", choices=sorted(DETECTORS),
                   help=f"detector of analytics.detectors to score (repeatable; default {DEFAULT})")
    p.add_argument("--per-file", action="store_true", help="also print each file's outcome")
    p.add_argument("--files", action="append", metavar="SUBSTRING",
                   help="score only files whose group/name contains SUBSTRING (repeatable)")
    p.add_argument("--rcf-trees", type=int, default=RCF_TREES,
                   help=f"trees of the Random Cut Forest baseline (default {RCF_TREES}, as NAB; 0 skips it)")
    p.add_argument("--rcf-seed", type=int, default=0, help="random seed of the Random Cut Forest")
    args = p.parse_args()
    if args.rcf_trees < 0:
        raise SystemExit("error: --rcf-trees must be 0 or more")
    names = args.detector or [DEFAULT]
    corpus = load_corpus(args.root)
    if args.files:
        corpus = [f for f in corpus if any(sub in f.name for sub in args.files)]
    if not corpus:
        raise SystemExit(f"error: no labelled data file found under {args.root}/data")
    rows = sum(len(f.ts) for f in corpus)
    groups = sorted({f.name.split("/")[0] for f in corpus})
    print(f"{len(corpus)} files ({', '.join(groups)}), {rows:,} rows, {sum(len(f.windows) for f in corpus)} windows")
    for name in names:
        t = time.perf_counter()
        for f in corpus:
            f.scores[name] = run_detector(f, name)
        print(f"{name}: scored through analytics.score in {time.perf_counter() - t:.2f} s")
    for f in corpus:
        f.scores[BASELINE] = windowed_gaussian(f.values)
    baselines = [BASELINE]
    if args.rcf_trees:
        t = time.perf_counter()
        for f in corpus:
            f.scores[RCF] = random_cut_forest(f.values, trees=args.rcf_trees, seed=args.rcf_seed)
        print(f"{RCF}: {args.rcf_trees} trees of {RCF_TREE_SIZE}, scored in {time.perf_counter() - t:.0f} s")
        baselines.append(RCF)
    report(corpus, [*names, *baselines], args.per_file)


if __name__ == "__main__":
    main()
