"""Offline scoring of one series (`ruongso analytics score`): the live detector, run over a CSV.

Input columns `timestamp,value` (header required; timestamps ISO 8601 or epoch seconds/ms; naive times
are taken as UTC); output `timestamp,value,anomaly_score`, one row per input row, in input order. Each
row's score is computed by the streaming detector before it has seen any later row. A row with an
empty or non-finite value keeps its place with score 0 and is not learned.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from analytics.detectors import DEFAULT, make


class ScoreInputError(ValueError):
    """The input cannot be scored; the message names the file, line and problem in one line."""


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch from ISO 8601 or a number (seconds, or milliseconds when > 1e11)."""
    s = text.strip()
    try:
        num = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(num):
            raise ValueError(f"timestamp {text!r} is not finite")
        return num / 1000.0 if abs(num) > 1e11 else num
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _value(text: str) -> float:
    s = text.strip()
    if s == "" or s.lower() in ("nan", "null", "none", "na"):
        return math.nan
    return float(s)


def _rows(src: TextIO, name: str) -> Iterator[tuple[int, str, str]]:
    reader = csv.reader(src)
    try:
        header = next(reader)
    except StopIteration:
        raise ScoreInputError(f"{name}: the file is empty (expected a header 'timestamp,value')") from None
    cols = [h.strip().lstrip("\ufeff").lower() for h in header]
    if "timestamp" not in cols or "value" not in cols:
        raise ScoreInputError(f"{name}: line 1: header {header!r} must name the columns 'timestamp' and 'value'")
    it, iv = cols.index("timestamp"), cols.index("value")
    need = max(it, iv) + 1
    for row in reader:
        if not row:
            continue
        if len(row) < need:
            raise ScoreInputError(f"{name}: line {reader.line_num}: expected {need} columns, found {len(row)}")
        yield reader.line_num, row[it], row[iv]


def score_stream(src: TextIO, dst: TextIO, name: str = "input", detector: str = DEFAULT) -> int:
    """Score every row of `src` into `dst`; return the number of rows."""
    det = make(detector)
    out = csv.writer(dst, lineterminator="\n")
    out.writerow(("timestamp", "value", "anomaly_score"))
    update = det.update
    n = 0
    for line, ts_text, v_text in _rows(src, name):
        try:
            ts = parse_timestamp(ts_text)
        except ValueError:
            raise ScoreInputError(
                f"{name}: line {line}: timestamp {ts_text!r} is not ISO 8601 or epoch seconds"
            ) from None
        try:
            v = _value(v_text)
        except ValueError:
            raise ScoreInputError(f"{name}: line {line}: value {v_text!r} is not a number") from None
        s = update(v, ts) if math.isfinite(v) else 0.0
        out.writerow((ts_text, v_text, f"{s:.6f}"))
        n += 1
    return n


def score_file(input_path: Path, output_path: Path, detector: str = DEFAULT) -> int:
    try:
        src = open(input_path, encoding="utf-8", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ScoreInputError(f"cannot read {input_path}: {exc.strerror}") from None
    tmp = output_path.with_name(output_path.name + ".part")
    try:
        with src, open(tmp, "w", encoding="utf-8", newline="") as dst:
            n = score_stream(src, dst, str(input_path), detector)
        tmp.replace(output_path)
    except UnicodeDecodeError:
        raise ScoreInputError(f"{input_path}: not UTF-8 text") from None
    except OSError as exc:
        raise ScoreInputError(f"cannot write {output_path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return n
