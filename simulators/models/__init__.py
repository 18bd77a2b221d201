"""Physically motivated signal models of the simulated farm (stdlib only; the edge agent imports them).

`NodeModel(profile_id, seed, region=RegionWeather(seed))` gives one node's readings at increasing
timestamps; see node.py. Sources and UNSOURCED ESTIMATES are named in each module's docstring and in
docs/simulators.md.
"""

from simulators.models.node import NodeModel, Sample
from simulators.models.seeds import derive_seed
from simulators.models.weather import RegionWeather

__all__ = ["NodeModel", "RegionWeather", "Sample", "derive_seed"]
