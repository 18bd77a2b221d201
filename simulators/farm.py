"""A simulated farm as a deterministic stream of MQTT messages, with no MQTT involved.

    from simulators.farm import Farm
    farm = Farm(sites=3, nodes_per_site=2, start_ms=1764460800000, duration_s=86400,
                seed=7, faults=("spike", "stuck", "nan"), fault_rate=0.01)
    for topic, payload, meta in farm.messages():
        ...                       # topic str, payload bytes (wire format v1), meta: MessageMeta
    farm.truth                    # list[TruthRecord]: every injected fault (complete once exhausted)
    farm.events                   # farm conditions that are not faults, e.g. ("do_crash", site, node, start, end)
    farm.manifest()               # the sites and nodes, as `--manifest` writes them

The same arguments give the same bytes in the same order, whatever the machine. Messages come out in
simulated-time order (`meta.at_ms`), except what a fault reorders.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from contract.topics import status, telemetry
from contract.wire import MAX_BATCH_ITEMS, TS_FLOOR_MS, Reading, Status, encode_batch, encode_reading
from ruongso.profiles import measured_quantities, profile_ids
from simulators.faults import NodeFaults, parse_kinds
from simulators.models.node import NodeModel, SiteClimate
from simulators.models.seeds import derive_seed
from simulators.models.weather import RegionWeather
from simulators.sites import SiteSpec, layout
from simulators.truth import TruthRecord


@dataclass(frozen=True)
class FarmConfig:
    start_ms: int
    duration_s: float | None = 3600.0  # None: endless
    interval_s: float = 60.0
    sites: int = 1
    nodes_per_site: int = 2
    profile: str | None = None  # None: cycle through every profile across the sites
    seed: int = 0
    faults: tuple[str, ...] = ()
    fault_rate: float = 0.0
    batch: int = 0  # > 0: each node sends its reading sets in batches of this many
    site_prefix: str = ""
    status: bool = False  # also publish each node's retained status (online, offline in dropouts and at the end)

    def __post_init__(self) -> None:
        if isinstance(self.faults, str):
            object.__setattr__(self, "faults", parse_kinds(self.faults))
        else:
            parse_kinds(",".join(self.faults))
        if self.sites < 1 or self.nodes_per_site < 1:
            raise ValueError("sites and nodes per site must be at least 1")
        if self.sites * self.nodes_per_site > 100_000:
            raise ValueError("at most 100000 nodes")
        if not 0.001 <= self.interval_s <= 86_400:
            raise ValueError(f"interval {self.interval_s:g} s is not between 0.001 and 86400 s")
        if self.duration_s is not None and self.duration_s < 0:
            raise ValueError("duration must not be negative")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault rate {self.fault_rate:g} is not between 0 and 1")
        if not 0 <= self.batch <= MAX_BATCH_ITEMS:
            raise ValueError(f"batch {self.batch} is not between 0 and {MAX_BATCH_ITEMS}")
        if self.start_ms < TS_FLOOR_MS:
            raise ValueError("start is before 2020-01-01")
        if self.profile is not None and self.profile not in profile_ids():
            raise ValueError(f"unknown profile {self.profile!r}; known: {', '.join(profile_ids())}")

    @property
    def interval_ms(self) -> int:
        return max(1, round(self.interval_s * 1000))

    @property
    def ticks(self) -> int | None:
        """Reading sets per node, or None for an endless run."""
        if self.duration_s is None:
            return None
        return int(round(self.duration_s * 1000) // self.interval_ms)


@dataclass(frozen=True, slots=True)
class MessageMeta:
    site: str
    node: str
    profile: str
    seqs: tuple[int, ...]
    ts: tuple[int, ...]  # true measurement times (a clock_skew fault sends another one)
    at_ms: int  # simulated time at which the node sends the message
    faults: tuple[str, ...] = ()  # kinds present in this message (value, reading and message faults)
    repeat: bool = False  # a duplicate: the same bytes again, not a new reading set
    kind: str = "telemetry"  # or "status" (retained; only with FarmConfig.status)


class Message(NamedTuple):
    topic: str
    payload: bytes
    meta: MessageMeta


@dataclass(slots=True)
class _Held:
    release_after: int
    message: Message


@dataclass(slots=True)
class _Node:
    site: SiteSpec
    slug: str
    boot: str
    topic: str
    phase_ms: int
    model: NodeModel
    faults: NodeFaults
    sibling: str
    seq: int = 0
    online: bool = False  # the last status published (with FarmConfig.status)
    pending: list[tuple[Reading, int, tuple[str, ...]]] = field(default_factory=list)
    held: list[_Held] = field(default_factory=list)


class Farm:
    def __init__(self, config: FarmConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else FarmConfig(**kwargs)
        cfg = self.config
        profiles = [cfg.profile] if cfg.profile else profile_ids()
        self.sites = layout(cfg.seed, cfg.sites, cfg.nodes_per_site, profiles, cfg.site_prefix)
        region = RegionWeather(derive_seed(cfg.seed, "region"))
        self._quantities = {p: measured_quantities(p) for p in set(profiles)}
        nodes: list[_Node] = []
        for site in self.sites:
            qs = self._quantities[site.profile]
            sky = SiteClimate.for_site(region, site.seed)
            for i, spec in enumerate(site.nodes):
                sibling = site.nodes[(i + 1) % len(site.nodes)].slug if len(site.nodes) > 1 else f"{spec.slug}-x"
                nodes.append(
                    _Node(
                        site,
                        spec.slug,
                        spec.boot,
                        str(telemetry(site.slug, spec.slug)),
                        derive_seed(spec.seed, "phase") % cfg.interval_ms,
                        NodeModel(site.profile, spec.seed, site=sky, quantities=qs),
                        NodeFaults(
                            site.slug,
                            spec.slug,
                            spec.boot,
                            qs,
                            cfg.faults,
                            cfg.fault_rate,
                            random.Random(derive_seed(spec.seed, "faults")),
                        ),
                        sibling,
                    )
                )
        # Within one interval nodes send in the order of their phase, so timestamps rise message by message.
        self._nodes = sorted(nodes, key=lambda n: (n.phase_ms, n.slug))
        self.truth: list[TruthRecord] = []
        self.events: list[tuple[str, str, str, int, int]] = []
        self.stats: Counter[str] = Counter()
        self.fault_counts: Counter[str] = Counter()
        # Called with each truth record as it is recorded (the CLI streams them to --truth).
        self.on_truth: Callable[[TruthRecord], None] | None = None
        self._closed = False

    def manifest(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "seed": cfg.seed,
            "start": cfg.start_ms,
            "interval_s": cfg.interval_s,
            "duration_s": cfg.duration_s,
            "sites": [s.to_dict(self._quantities[s.profile]) for s in self.sites],
        }

    # --- the stream -------------------------------------------------------------------------------

    def messages(self) -> Iterator[Message]:
        cfg = self.config
        ticks = cfg.ticks
        k = 0
        while ticks is None or k < ticks:
            base = cfg.start_ms + k * cfg.interval_ms
            for node in self._nodes:
                yield from self._tick(node, base + node.phase_ms)
            k += 1
        end = cfg.start_ms + k * cfg.interval_ms
        for node in self._nodes:
            yield from self._flush(node, end, final=True)
        yield from self.farewell(end)
        self.close()

    def farewell(self, at_ms: int) -> Iterator[Message]:
        """Offline statuses of the nodes still online (with FarmConfig.status): the simulator stops."""
        for node in self._nodes:
            if node.online:
                yield self._status(node, "offline", at_ms)

    def close(self) -> None:
        """Record the faults still in progress (end of run or interrupt); idempotent."""
        if self._closed:
            return
        self._closed = True
        for node in self._nodes:
            node.faults.close()
            self._collect(node)

    def _tick(self, node: _Node, ts: int) -> Iterator[Message]:
        seq = node.seq
        node.seq += 1
        sample = node.model.sample(ts)
        if node.model.events:
            for kind, start, end in node.model.events:
                self.events.append((kind, node.site.slug, node.slug, start, end))
            node.model.events.clear()
        f = node.faults
        skew = f.start_faults()
        if f.silent(ts, seq):
            self._collect(node)
            if node.online:
                # What the broker's last will says when a node's link drops.
                yield self._status(node, "offline", ts)
            yield from self._release(node, ts)
            return
        if self.config.status and not node.online:
            yield self._status(node, "online", ts)
        values, kinds = f.apply_values(ts, seq, sample.values)
        sent_ts = ts
        if skew == "clock_skew":
            sent_ts = f.skew(ts, seq, self.config.interval_ms)
            kinds += ("clock_skew",)
        reading = Reading(node.slug, node.boot, seq, sent_ts, values, sample.battery_v, sample.rssi)
        node.pending.append((reading, ts, kinds))
        self.stats["reading_sets"] += 1
        if len(node.pending) >= max(1, self.config.batch):
            yield from self._flush(node, ts)
        else:
            yield from self._release(node, ts)
        self._collect(node)

    def _flush(self, node: _Node, at_ms: int, final: bool = False) -> Iterator[Message]:
        if node.pending:
            items, node.pending = node.pending, []
            readings = [r for r, _, _ in items]
            true_ts = tuple(t for _, t, _ in items)
            seqs = tuple(r.seq for r in readings)
            kinds = tuple(dict.fromkeys(k for _, _, ks in items for k in ks))
            # A message fault waits for a message without other faults, so each fault can be told apart.
            mkind = node.faults.take_message_fault() if not kinds else None
            payload = (
                encode_reading(readings[0]) if len(readings) == 1 and not self.config.batch else encode_batch(readings)
            )
            if mkind is not None:
                node.faults.record_message(mkind, list(true_ts), list(seqs))
                kinds += (mkind,)
            if mkind == "wrong_node":
                others = [dataclasses.replace(r, node=node.sibling) for r in readings]
                payload = (
                    encode_reading(others[0]) if len(others) == 1 and not self.config.batch else encode_batch(others)
                )
            elif mkind == "malformed_json":
                # Any strict prefix of a JSON object is invalid JSON: a message cut short in transit.
                payload = payload[: node.faults.rng.randint(1, len(payload) - 1)]
            meta = MessageMeta(node.site.slug, node.slug, node.site.profile, seqs, true_ts, at_ms, kinds)
            msg = Message(node.topic, payload, meta)
            if mkind == "out_of_order":
                node.held.append(_Held(node.faults.rng.randint(1, 5), msg))
            else:
                yield from self._emit(msg)
                if mkind == "duplicate":
                    yield from self._emit(msg._replace(meta=dataclasses.replace(meta, repeat=True)))
        yield from self._release(node, at_ms, final=final)
        self._collect(node)

    def _release(self, node: _Node, at_ms: int, final: bool = False) -> Iterator[Message]:
        if not node.held:
            return
        keep: list[_Held] = []
        for h in node.held:
            h.release_after -= 1
            if final or h.release_after < 0:
                yield from self._emit(h.message._replace(meta=dataclasses.replace(h.message.meta, at_ms=at_ms)))
            else:
                keep.append(h)
        node.held = keep

    def _status(self, node: _Node, state: str, at_ms: int) -> Message:
        node.online = state == "online"
        self.stats["status"] += 1
        payload = Status(state, at_ms, "ruongso-sim").encode()
        meta = MessageMeta(node.site.slug, node.slug, node.site.profile, (), (at_ms,), at_ms, kind="status")
        return Message(str(status(node.site.slug, node.slug)), payload, meta)

    def _emit(self, msg: Message) -> Iterator[Message]:
        self.stats["messages"] += 1
        yield msg

    def _collect(self, node: _Node) -> None:
        if node.faults.truth:
            for r in node.faults.truth:
                self.fault_counts[r.kind] += 1
                if self.on_truth is not None:
                    self.on_truth(r)
            self.truth.extend(node.faults.truth)
            node.faults.truth.clear()
