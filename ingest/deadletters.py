"""The dead-letter store: every rejection as a `rejected` point and a line in a local JSON-lines file."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from pathlib import Path

import orjson

from ingest.convert import DeadLetter
from ingest.lineproto import field_string
from ruongso.logs import event

log = logging.getLogger("ruongso.ingest")

# Rejections logged per reason per report interval; a flood of one fault is summarised, not echoed.
LOG_PER_REASON = 20


class RejectedLines:
    """`rejected` points with distinct timestamps per series: two rejections of one node for one
    reason in the same millisecond must stay two points, or `sum(count)` would undercount."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str, str], int] = {}

    def line(self, d: DeadLetter, now_ms: int) -> str:
        key = (d.site, d.node, d.reason)
        ts = max(now_ms, self._last.get(key, 0) + 1)
        self._last[key] = ts
        if len(self._last) > 100_000:
            self._last.clear()  # only needs to remember the last few milliseconds
        fields = [
            "count=1i",
            f"topic={field_string(d.topic)}",
            f"detail={field_string(d.detail)}",
            f"payload={field_string(d.payload)}",
        ]
        if d.seq is not None:
            fields.append(f"seq={d.seq}i")
        if d.quantity is not None:
            fields.append(f"quantity={field_string(d.quantity[:64])}")
        return f"rejected,site={d.site},node={d.node},reason={d.reason} {','.join(fields)} {ts}"


class DeadLetterFile:
    """Append-only JSON lines; past `max_bytes` the file becomes `<name>.1` (replacing the older one),
    so a flood of bad messages cannot fill the disk while the newest evidence is always kept."""

    def __init__(self, path: Path, max_bytes: int = 256 << 20) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._f = open(self.path, "ab")  # noqa: SIM115 - kept open for the service's lifetime
        self._logged: Counter[str] = Counter()
        self.suppressed: Counter[str] = Counter()

    def append(self, letters: list[DeadLetter], now_ms: int) -> None:
        """Write and fsync: a rejected message is acknowledged only once its dead letter is on disk."""
        self._f.write(b"".join(orjson.dumps(d.as_json(now_ms)) + b"\n" for d in letters))
        self._f.flush()
        os.fsync(self._f.fileno())
        if self._f.tell() >= self.max_bytes:
            self._f.close()
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._f = open(self.path, "ab")  # noqa: SIM115
            event(log, "dead_letters_rotated", kept=f"{self.path.name}.1")
        for d in letters:
            if self._logged[d.reason] < LOG_PER_REASON:
                self._logged[d.reason] += 1
                event(log, "rejected", logging.WARNING, reason=d.reason, topic=d.topic, detail=d.detail)
            else:
                self.suppressed[d.reason] += 1

    def report_suppressed(self) -> None:
        for reason, n in self.suppressed.items():
            event(log, "rejected_not_logged", logging.WARNING, reason=reason, count=n,
                  why=f"more than {LOG_PER_REASON} in one interval; all are in {self.path}")
        self.suppressed.clear()
        self._logged.clear()

    def close(self) -> None:
        self._f.close()


def now_ms() -> int:
    return int(time.time() * 1000)
