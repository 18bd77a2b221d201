"""Checks every registry write makes, so bad input becomes a RegistryError a person can read."""

from __future__ import annotations

import re
from collections.abc import Iterable

from contract.quantities import MEASURED
from contract.topics import is_slug
from registry.db import RegistryError
from ruongso import profiles

GROWING_AREA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def slug(value: object, what: str) -> str:
    if not is_slug(value):
        raise RegistryError(f"{what} {value!r} is not a slug (a-z, 0-9, '-', 1-63 chars, not starting with '-')")
    return str(value)


def profile(value: str) -> str:
    if value not in profiles.profile_ids():
        raise RegistryError(f"unknown profile {value!r}; known: {', '.join(profiles.profile_ids())}")
    return value


def quantities(values: Iterable[str]) -> list[str]:
    out = []
    for v in values:
        if v not in MEASURED:
            raise RegistryError(f"unknown quantity {v!r}; known: {', '.join(sorted(MEASURED))}")
        if v not in out:
            out.append(v)
    return out


def growing_area(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not GROWING_AREA_RE.match(value):
        raise RegistryError(f"growing-area code {value!r} must be 1-64 of A-Z a-z 0-9 . _ -")
    return value


def one_of(value: str, allowed: Iterable[str], what: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise RegistryError(f"{what} {value!r} must be one of {', '.join(allowed)}")
    return value


def latlon(lat: float | None, lon: float | None) -> None:
    if lat is not None and not -90 <= lat <= 90:
        raise RegistryError(f"lat {lat} is outside -90..90")
    if lon is not None and not -180 <= lon <= 180:
        raise RegistryError(f"lon {lon} is outside -180..180")
