"""Ground truth of injected faults: one JSON object per line, so detectors can be scored later.

    {"site": "veg-1", "node": "veg-1-n01", "quantity": "air_temp", "kind": "drift",
     "start": 1751310840508, "end": 1751320500508, "seq": 134, "seq_end": 295, "boot": "sima41106"}

`quantity` is null for faults of a whole message or node (dropout, duplicate, out_of_order,
clock_skew, malformed_json, wrong_node). `start`/`end` are the (true) timestamps, ms UTC, of the first
and last reading affected. `seq` (and `seq_end` for a range) name the reading sets. `expect` is the
contract.wire.Reason ingest must give when it refuses the fault (absent when ingest accepts it);
`value` is the injected value where one was injected.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO


@dataclass(frozen=True, slots=True)
class TruthRecord:
    site: str
    node: str
    quantity: str | None
    kind: str
    start: int
    end: int
    seq: int | None = None
    seq_end: int | None = None
    boot: str | None = None
    expect: str | None = None
    value: float | None = None
    ts_sent: int | None = None

    @property
    def seqs(self) -> range:
        """The reading sets the fault touched (empty when it names none)."""
        if self.seq is None:
            return range(0)
        return range(self.seq, (self.seq_end if self.seq_end is not None else self.seq) + 1)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "site": self.site,
            "node": self.node,
            "quantity": self.quantity,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
        }
        for key in ("seq", "seq_end", "boot", "expect", "ts_sent"):
            v = getattr(self, key)
            if v is not None:
                d[key] = v
        if self.value is not None:
            # NaN is not JSON: the truth file names it as a string.
            d["value"] = "NaN" if math.isnan(self.value) else self.value
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


class TruthFile:
    """The `--truth` file: each record appended as the fault is recorded, so a live run's file grows as it
    goes; `finish` rewrites it sorted by start. A write error is kept and raised by `finish`, never out of
    the message stream."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: TextIO | None = path.open("w", encoding="utf-8")
        self._error: OSError | None = None

    def write(self, record: TruthRecord) -> None:
        if self._out is None:
            return
        try:
            self._out.write(record.to_json() + "\n")
            self._out.flush()
        except OSError as exc:
            self._error = exc
            self._close()

    def finish(self, records: list[TruthRecord]) -> None:
        self._close()
        if self._error is not None:
            raise self._error
        ordered = sorted(records, key=lambda r: (r.start, r.node, r.kind))
        self.path.write_text("".join(r.to_json() + "\n" for r in ordered), encoding="utf-8")

    def _close(self) -> None:
        if self._out is not None:
            with contextlib.suppress(OSError):
                self._out.close()
            self._out = None
