"""One line per event: `ts level logger event key=value …`, or one JSON object per line on request.

Stdlib only, so the edge agent uses it too.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        fields: dict[str, Any] = getattr(record, "fields", {})
        kv = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        line = f"{ts}Z {record.levelname:<7} {record.name} {record.getMessage()}"
        if kv:
            line += " " + kv
        if record.exc_info:
            line += " exc=" + _text(self.formatException(record.exc_info).splitlines()[-1])
        return line


def _text(v: Any) -> str:
    s = str(v)
    return json.dumps(s, ensure_ascii=False) if (" " in s or "=" in s or not s) else s


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure(json_logs: bool = False, level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonFormatter() if json_logs else _TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # paho and httpx are chatty at INFO; their events are reported through ours.
    for noisy in ("httpx", "httpcore", "paho"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with structured fields."""
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"fields": fields})
