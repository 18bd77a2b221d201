"""`ruongso analytics score`: one row out per row in, each scored before later rows are seen."""

from __future__ import annotations

import csv
import io
import math
import random
import subprocess
from pathlib import Path

import pytest

from analytics.score import ScoreInputError, parse_timestamp, score_stream


def _csv(rows: list[tuple[str, str]]) -> str:
    return "timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows)


def _series(n: int, spike_at: int | None = None) -> list[tuple[str, str]]:
    rnd = random.Random(11)
    rows = []
    for i in range(n):
        v = 20 + 3 * math.sin(i / 40) + rnd.gauss(0, 0.2) + (15 if i == spike_at else 0)
        rows.append((f"2024-03-{1 + i // 288:02d} {(i % 288) * 5 // 60:02d}:{(i % 288) * 5 % 60:02d}:00", f"{v:.3f}"))
    return rows


def _score(text: str) -> list[dict[str, str]]:
    out = io.StringIO()
    score_stream(io.StringIO(text), out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_score_cli_writes_one_scored_row_per_input_row(tmp_path: Path, ruongso_cmd: list[str]) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = _series(600, spike_at=500)
    src.write_text(_csv(rows))
    r = subprocess.run([*ruongso_cmd, "analytics", "score", "--input", str(src), "--output", str(dst)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = list(csv.DictReader(dst.open()))
    assert [(o["timestamp"], o["value"]) for o in out] == rows
    scores = [float(o["anomaly_score"]) for o in out]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[500] > 0.9
    assert sorted(range(600), key=lambda i: -scores[i])[0] == 500


def test_a_row_score_depends_only_on_earlier_rows() -> None:
    rows = _series(400)
    changed = rows[:300] + [(t, "999") for t, _ in rows[300:]]
    a, b = _score(_csv(rows)), _score(_csv(changed))
    assert [r["anomaly_score"] for r in a[:300]] == [r["anomaly_score"] for r in b[:300]]


def test_empty_values_keep_their_row_with_score_zero() -> None:
    rows = [*_series(100), ("2024-03-02 00:00:00", ""), ("2024-03-02 00:05:00", "nan")]
    out = _score(_csv(rows))
    assert len(out) == 102
    assert out[-2]["value"] == "" and out[-2]["anomaly_score"] == "0.000000"


@pytest.mark.parametrize(
    ("text", "ts"),
    [("2024-03-01 00:05:00", 1709251500.0), ("2024-03-01T00:05:00Z", 1709251500.0),
     ("2024-03-01T07:05:00+07:00", 1709251500.0), ("1709251500", 1709251500.0), ("1709251500000", 1709251500.0)],
)
def test_timestamps_in_common_forms(text: str, ts: float) -> None:
    assert parse_timestamp(text) == ts


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("time,val\n1,2\n", "must name the columns"),
        ("timestamp,value\n2024-03-01 00:00:00,1\nyesterday,2\n", "line 3: timestamp 'yesterday'"),
        ("timestamp,value\n2024-03-01 00:00:00,abc\n", "line 2: value 'abc' is not a number"),
        ("timestamp,value\n2024-03-01 00:00:00\n", "line 2: expected 2 columns"),
    ],
)
def test_bad_input_is_refused_with_the_line_and_reason(text: str, message: str) -> None:
    with pytest.raises(ScoreInputError, match=message):
        score_stream(io.StringIO(text), io.StringIO())


def test_cli_reports_bad_input_in_one_line_without_a_traceback(tmp_path: Path, ruongso_cmd: list[str]) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("timestamp,value\n2024-03-01 00:00:00,1\n2024-03-01 00:05:00,oops\n")
    r = subprocess.run([*ruongso_cmd, "analytics", "score", "-i", str(src), "-o", str(tmp_path / "o.csv")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "line 3" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.csv").exists()
    r = subprocess.run([*ruongso_cmd, "analytics", "score", "-i", str(tmp_path / "none.csv"), "-o", "x.csv"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot read" in r.stderr
