"""Checks every registry write makes, so bad input becomes a RegistryError a person can read."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable
from functools import cache

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


# "Stages: seedbed, establishment, … (entered per field)." in a profile's note (profiles.yaml, rice_paddy).
_STAGES_NOTE_RE = re.compile(r"Stages:\s*([a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*)*)")


def _profile_rule_exprs(profile_id: str) -> list[str]:
    doc = profiles.load()
    exprs = [str(r["expr"]) for r in profiles.profile(profile_id).get("rules", [])]
    common = doc.get("common_rules", {})
    if profile_id in common.get("applies_to", []):
        exprs += [str(r["expr"]) for r in common.get("rules", [])]
    return exprs


def _names_compared_with_stage(expr: str) -> list[str]:
    """The string constants `stage` is compared with in `expr` (`stage == 'x'`, `stage in ['x', 'y']`)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(expr, mode="eval")):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        if not any(isinstance(o, ast.Name) and o.id == "stage" for o in operands):
            continue
        for o in operands:
            for c in ast.walk(o):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    found.append(c.value)
    return found


@cache
def profile_stages(profile_id: str) -> tuple[str, ...]:
    """The stages a profile knows: those its note lists (in growing order), then any other its rules test."""
    stages: list[str] = []
    m = _STAGES_NOTE_RE.search(str(profiles.profile(profile_id).get("note") or ""))
    if m:
        stages += [s.strip() for s in m.group(1).split(",")]
    for expr in _profile_rule_exprs(profile_id):
        stages += [s for s in _names_compared_with_stage(expr) if s not in stages]
    return tuple(stages)


@cache
def profile_uses_tan(profile_id: str) -> bool:
    """Whether any rule of the profile reads a hand-entered TAN test (`tan_mg_l`)."""
    return any(
        isinstance(n, ast.Name) and n.id == "tan_mg_l"
        for expr in _profile_rule_exprs(profile_id)
        for n in ast.walk(ast.parse(expr, mode="eval"))
    )


def stage(value: str, profile_id: str) -> str:
    known = profile_stages(profile_id)
    if not known:
        raise RegistryError(f"profile {profile_id!r} has no growth stages (no rule of it depends on one)")
    if value not in known:
        raise RegistryError(f"stage {value!r} is not a stage of profile {profile_id!r}; known: {', '.join(known)}")
    return value


# UNSOURCED ESTIMATE: test kits and photometers for pond TAN read up to about 10 mg/L; 100 is far beyond any pond
# and catches a misplaced decimal point (8 typed as 80.0 would raise a critical ammonia alert).
TAN_MAX_MG_L = 100.0


def tan(value: float, profile_id: str) -> float:
    if not profile_uses_tan(profile_id):
        raise RegistryError(f"profile {profile_id!r} has no rule that uses a TAN test (tan_mg_l is for ponds)")
    if not math.isfinite(value) or not 0 <= value <= TAN_MAX_MG_L:
        raise RegistryError(f"TAN {value} mg/L must be a number within 0..{TAN_MAX_MG_L:g}")
    return float(value)
