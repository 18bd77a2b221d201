"""The simulated sites and nodes: slugs, production type, Vietnamese display name, position, seeds.

Site i gets profile i of the cycle (or the one `--profile`), numbered per profile: `pond-1`, `rice-1`,
`pond-2`…; its nodes are `pond-1-n01`, `pond-1-n02`… Seeds and positions come from the run seed and
the unprefixed slugs, so a `--site-prefix` (test isolation) or extra sites and nodes never change the
signals of the others. Positions scatter ±0.04° around Tứ Kỳ (20.8 °N, 106.4 °E; docs/agronomy.md §0).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

from contract.topics import check_slug
from simulators.models.seeds import derive_seed

# profile → (slug stem, Vietnamese display name)
SITE_NAMES: Final = {
    "rice_paddy": ("rice", "Ruộng lúa"),
    "vegetable_open": ("veg", "Ruộng rau"),
    "net_house": ("nethouse", "Nhà lưới"),
    "fish_pond": ("pond", "Ao cá"),
    "pig_barn": ("pig", "Chuồng lợn"),
    "poultry_barn": ("poultry", "Chuồng gà"),
    "lychee_orchard": ("lychee", "Vườn vải"),
}
CENTRE: Final = (20.8, 106.4)


@dataclass(frozen=True, slots=True)
class NodeSpec:
    slug: str
    base: str  # slug without the site prefix: what seeds derive from
    seed: int
    boot: str


@dataclass(frozen=True, slots=True)
class SiteSpec:
    slug: str
    base: str
    profile: str
    name_vi: str
    lat: float
    lon: float
    seed: int
    nodes: tuple[NodeSpec, ...]

    def to_dict(self, quantities: list[str]) -> dict[str, Any]:
        return {
            "site": self.slug,
            "profile": self.profile,
            "name_vi": self.name_vi,
            "lat": self.lat,
            "lon": self.lon,
            "nodes": [{"node": n.slug, "boot": n.boot, "quantities": quantities} for n in self.nodes],
        }


def layout(seed: int, sites: int, nodes_per_site: int, profiles: list[str], prefix: str = "") -> list[SiteSpec]:
    """The sites of a run, in order; ValueError if a slug would not be valid."""
    counts: dict[str, int] = {}
    out: list[SiteSpec] = []
    for i in range(sites):
        profile = profiles[i % len(profiles)]
        counts[profile] = counts.get(profile, 0) + 1
        stem, name = SITE_NAMES[profile]
        base = f"{stem}-{counts[profile]}"
        slug = check_slug(f"{prefix}-{base}" if prefix else base, "site")
        site_seed = derive_seed(seed, base)
        geo = random.Random(derive_seed(seed, base, "geo"))
        nodes = []
        for j in range(1, nodes_per_site + 1):
            node_base = f"{base}-n{j:02d}"
            node_seed = derive_seed(seed, base, node_base)
            nodes.append(
                NodeSpec(
                    check_slug(f"{slug}-n{j:02d}", "node"),
                    node_base,
                    node_seed,
                    f"sim{derive_seed(node_seed, 'boot') % 16**6:06x}",
                )
            )
        out.append(
            SiteSpec(
                slug,
                base,
                profile,
                f"{name} {counts[profile]}",
                round(CENTRE[0] + geo.uniform(-0.04, 0.04), 5),
                round(CENTRE[1] + geo.uniform(-0.04, 0.04), 5),
                site_seed,
                tuple(nodes),
            )
        )
    return out
