"""Typed access to one sensor's driver options, with errors that name the bad key.

Every driver's `build()` reads its options through `Options`; whatever it did not read is reported
as unknown, so a typo in node.yaml (`adress: 0x44`) is an error, never a silent default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ruongso.durations import parse_duration


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message starts with the key's path."""


_MISSING = object()


class Options:
    def __init__(self, values: Mapping[str, Any], path: str) -> None:
        self._values = dict(values)
        self._used: set[str] = set()
        self.path = path

    def _get(self, key: str, default: Any) -> Any:
        self._used.add(key)
        value = self._values.get(key, default)
        if value is _MISSING:
            raise ConfigError(f"{self.path}.{key}: required")
        return value

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}.{key}: {message}")

    def text(self, key: str, default: Any = _MISSING) -> str:
        v = self._get(key, default)
        if not isinstance(v, str) or not v:
            raise self.error(key, f"{v!r} is not a non-empty string")
        return v

    def optional_str(self, key: str) -> str | None:
        v = self._get(key, None)
        return None if v is None else self.text(key)

    def integer(self, key: str, default: Any = _MISSING, lo: int | None = None, hi: int | None = None) -> int:
        v = self._get(key, default)
        if isinstance(v, str):
            try:
                v = int(v, 0)  # "0x44" as well as 68
            except ValueError:
                raise self.error(key, f"{v!r} is not an integer") from None
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.error(key, f"{v!r} is not an integer")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.error(key, f"{v} is outside {lo}..{hi}")
        return v

    def number(self, key: str, default: Any = _MISSING, lo: float | None = None, hi: float | None = None) -> float:
        v = self._get(key, default)
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            raise self.error(key, f"{v!r} is not a number")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.error(key, f"{v} is outside {lo}..{hi}")
        return float(v)

    def duration(self, key: str, default: Any = _MISSING) -> float:
        v = self._get(key, default)
        try:
            return parse_duration(v)
        except (ValueError, TypeError) as exc:
            raise self.error(key, str(exc)) from None

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        v = self._get(key, default)
        if not isinstance(v, bool):
            raise self.error(key, f"{v!r} is not true/false")
        return v

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _MISSING) -> str:
        v = self._get(key, default)
        if v not in choices:
            raise self.error(key, f"{v!r} is not one of {', '.join(choices)}")
        return str(v)

    def i2c_address(self, key: str, default: int, allowed: tuple[int, ...]) -> int:
        v = self.integer(key, default)
        if v not in allowed:
            raise self.error(
                key, f"0x{v:02x} is not an address this chip can have ({', '.join(f'0x{a:02x}' for a in allowed)})"
            )
        return v

    def raw(self, key: str, default: Any = None) -> Any:
        return self._get(key, default)

    def check_all_used(self) -> None:
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            raise ConfigError(f"{self.path}: unknown option(s) {', '.join(unknown)}")
