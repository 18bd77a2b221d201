"""The alert profiles of the pilot (ruongso/reference/profiles.yaml, with sources), loaded once.

The YAML is a copy of the project's reference data; docs/agronomy.md explains every threshold and
marks the UNSOURCED ESTIMATES that must be tuned per site with local extension officers.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load() -> dict[str, Any]:
    text = resources.files("ruongso").joinpath("reference/profiles.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def profile_ids() -> list[str]:
    return [p["id"] for p in load()["profiles"]]


def profile(profile_id: str) -> dict[str, Any]:
    for p in load()["profiles"]:
        if p["id"] == profile_id:
            return dict(p)
    raise KeyError(f"unknown profile {profile_id!r}; known: {', '.join(profile_ids())}")


def measured_quantities(profile_id: str) -> list[str]:
    """Quantities a node of this profile measures (node-health fields excluded)."""
    from contract.quantities import MEASURED

    return [q for q in profile(profile_id)["quantities"] if q in MEASURED]
