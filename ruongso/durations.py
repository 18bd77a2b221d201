"""Durations as people write them: `45` (seconds), `30s`, `90m`, `2h`, `7d`."""

from __future__ import annotations

import re

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str | float | int) -> float:
    """Seconds in `text`; ValueError with a readable message otherwise."""
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"duration {text} is negative")
        return float(text)
    m = _RE.match(text.lower())
    if not m:
        raise ValueError(f"duration {text!r} is not a number of seconds or like 90m, 2h, 7d")
    return float(m.group(1)) * _UNITS[m.group(2)]
