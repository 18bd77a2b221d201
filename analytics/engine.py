"""The streaming core: readings, statuses and controls in; alert events and derived points out.

No I/O here (the service does MQTT and InfluxDB), so tests and the benchmark drive it directly.
State is per (site, node): fault checks and aggregates per quantity, forecasts, link statistics.
Rules and fault checks use the data's own time (`ts`); node silence uses the caller's clock (`now`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, Final

from analytics import rules as rules_mod
from analytics.aggregates import DAY_MS, HOUR_MS, ICT_MS, Missing, Series, ict_day, ict_hour
from analytics.control import Control
from analytics.derived import (
    blast_lwd_required_h,
    dew_point,
    do_pct_sat,
    extraterrestrial_radiation,
    gdd,
    hargreaves_et0,
    heat_index,
    sun_times_local_h,
    thi,
    uia,
    vpd,
)
from analytics.drift import EcDrift, PeerDrift, TracerDrift, compared
from analytics.expr import compile_expr
from analytics.faults import SeriesFaults, is_sentinel
from analytics.forecast import DoForecast, WetRun, _day_of_year
from analytics.lifecycle import Key, Lifecycle, Silence, Transition
from analytics.lines import derived_line
from analytics.rules import Rule, RuleSet
from analytics.sites import SiteConfig, SiteDirectory
from analytics.texts import render
from contract.alerts import AlertEvent
from contract.quantities import HEALTH_FIELDS, QUANTITIES
from contract.wire import Decoded, Reading, Reason, Status
from ruongso.logs import event

log = logging.getLogger("analytics.engine")

FRESH_MS: Final = 15 * 60_000
BAD_REASONS: Final = frozenset({Reason.IMPLAUSIBLE, Reason.NOT_FINITE})
FAULT_KINDS: Final = ("implausible", "stuck", "spike", "drift")
SUPPRESSING: Final = ("implausible", "stuck", "drift")
BARNS: Final = frozenset({"pig_barn", "poultry_barn"})
OWN_DRIFT: Final = frozenset({"soil_ec", "nh3"})  # also judged against the node's own other readings
# A drift is a judgement from comparison, and a real event in one pond or barn (a pond's oxygen crashing
# while its neighbours' does not, one barn's fans failing) looks the same to it. So a drift does not
# silence the farmer's critical alerts, nor any alert on these quantities, whose danger kills within
# hours: DO can fall from optimal to lethal within hours (docs/agronomy.md §4.1 [SRAC4601]), and in the
# simulated summer month each crashing pond read below its neighbours from the afternoon before.
# Faults the probe's own readings show (implausible, stuck, physically impossible) silence them all.
DRIFT_SPARES: Final = frozenset({"dissolved_oxygen"})
MAX_PEERS: Final = 3  # neighbours a node is compared with for drift (2 of 3 agreeing still name the culprit)
SILENT_INTERVALS: Final = 3  # agronomy.md §10: no reading for 3 × interval → warning
LOSS_FIRE, LOSS_CLEAR = 0.2, 0.1
# The boot id of readings replayed from storage at start (analytics/warmup.py), which does not keep it:
# the node's first live boot continues their sequence numbers, unless they went back (it rebooted).
REPLAYED_BOOT: Final = "replayed"
_SAFE: Final[dict[str, Any]] = {"__builtins__": {}}


@dataclass(slots=True)
class Output:
    events: list[AlertEvent] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def extend(self, other: Output) -> None:
        self.events.extend(other.events)
        self.lines.extend(other.lines)


class NodeState:
    def __init__(self, site: str, node: str, cfg: SiteConfig) -> None:
        self.site, self.node, self.cfg = site, node, cfg
        self.series: dict[str, Series] = {}
        self.faults: dict[str, SeriesFaults] = {}
        self.drift: dict[str, PeerDrift] = {}
        self.tracer: TracerDrift | None = None  # barns: NH3 against the node's own CO2
        self.ec: EcDrift | None = None  # soil EC against the node's own soil moisture or water level
        self.raw: dict[str, float] = {}
        self.do_fc = DoForecast(cfg.lat, cfg.lon)
        self.wet = WetRun()
        self.last_seen = 0
        self.last_ts = 0
        self.dts: list[int] = []
        self.interval_ms = 0
        self.offline = False
        self.boot = ""
        self.max_seq = -1
        self.seqs: set[int] = set()
        self.first_seq = 0
        self.loss = 0.0
        self.fired_days: dict[str, set[int]] = {}
        self.hours: dict[tuple[str, float], dict[int, int]] = {}  # (q, level) → ICT day → ms above
        self.hours_ts: dict[str, int] = {}

    def fault(self, q: str) -> SeriesFaults:
        f = self.faults.get(q)
        if f is None:
            f = self.faults[q] = SeriesFaults(q)
        return f

    def probe_faulty(self, q: str) -> bool:
        """A fault the probe's own readings show (implausible, stuck, physically impossible): its readings
        are not the farm's. A drift, unlike these, is judged by comparison (see `DRIFT_SPARES`)."""
        f = self.faults.get(q)
        return f is not None and (f.is_implausible or f.stuck or f.physical_drift)

    def suppressed(self, q: str) -> bool:
        # Asked several times per reading (rules, every peer's drift): the common answers first, inline
        # (the first is `probe_faulty`).
        f = self.faults.get(q)
        if f is not None and (f.is_implausible or f.stuck or f.physical_drift):
            return True
        d = self.drift.get(q)
        if d is not None and d.active:
            return True
        return q in OWN_DRIFT and self.drifting(q)

    def drifting(self, q: str) -> bool:
        """Drifting from the site's other nodes or, for a barn's NH3, from the node's own CO2, or for soil
        EC, from its usual value at the node's present wetness."""
        d = self.drift.get(q)
        if d is not None and d.active:
            return True
        if q == "soil_ec" and self.ec is not None and self.ec.active:
            return not self.suppressed(self.ec.wetness)
        if q == "nh3" and self.tracer is not None and self.tracer.active:
            co2 = self.drift.get("co2")
            return co2 is None or not co2.active
        return False

    def seen(self, r: Reading, now: int) -> None:
        self.last_seen = max(self.last_seen, now)
        if r.ts > self.last_ts:
            if self.last_ts and len(self.dts) < 15:
                self.dts.append(r.ts - self.last_ts)
                self.interval_ms = sorted(self.dts)[len(self.dts) // 2]
            self.last_ts = r.ts
        if r.boot != self.boot:
            if self.boot == REPLAYED_BOOT and r.seq > self.max_seq - 10:
                self.boot = r.boot
            else:
                self.boot, self.max_seq, self.seqs, self.first_seq, self.loss = r.boot, r.seq, {r.seq}, r.seq, 0.0
                return
        self.seqs.add(r.seq)
        if r.seq > self.max_seq:
            self.max_seq = r.seq
            if r.seq % 10 == 0:
                self._link_loss()

    def _link_loss(self) -> None:
        # Late (store-and-forward) readings get 10 sequence numbers of grace before they count as lost.
        hi = self.max_seq - 10
        lo = max(self.first_seq, hi - 100)
        self.seqs = {s for s in self.seqs if s > lo - 1}
        if hi - lo < 20:
            return
        got = sum(1 for s in self.seqs if lo <= s < hi)
        self.loss = 1.0 - got / (hi - lo)


class _Ctx(dict[str, Any]):
    """Names of rule expressions, resolved lazily and cached for one reading's evaluation."""

    def __init__(self, engine: Engine, ns: NodeState, ts: int, faulty: set[str]) -> None:
        super().__init__()
        self.ns, self.ts = ns, ts
        self.engine = engine
        self.faulty = faulty  # the node's suppressed quantities at this reading

    def _series(self, q: str) -> Series:
        s = self.ns.series.get(q)
        if s is None or s.last is None or q in self.faulty:
            raise Missing(q)
        return s

    def __missing__(self, name: str) -> Any:
        value = self._resolve(name)
        self[name] = value
        return value

    def _resolve(self, name: str) -> Any:
        ts, ns = self.ts, self.ns
        if name in QUANTITIES:
            s = self._series(name)
            if ts - s.last_ts > FRESH_MS:
                raise Missing(name)
            return s.last
        if name == "hour":
            return ict_hour(ts)
        if name == "month":
            return _day_month(ts)
        if name == "stage":
            return ns.cfg.stage
        if name == "tan_mg_l":
            if ns.cfg.tan_mg_l is None:
                raise Missing(name)
            return ns.cfg.tan_mg_l
        if name == "do_forecast_sunrise":
            p = ns.do_fc.projection()
            if p is None:
                raise Missing(name)
            return p
        if name == "lwd_h":
            return ns.wet.hours()
        if name == "lwd_mean_temp":
            t = ns.wet.mean_temp()
            if t is None:  # no wet run: its length is 0, the temperature of now stands in
                return self._resolve("air_temp")
            return t
        fn = _FUNCS.get(name)
        if fn is not None:
            return fn
        agg = getattr(self, "_agg_" + name, None)
        if agg is None:
            raise Missing(name)
        return agg

    def _agg_mean_10min(self, q: str) -> float:
        s = self._series(q)
        s.w10.trim(self.ts)
        return s.w10.mean()

    def _agg_mean_1h(self, q: str) -> float:
        s = self._series(q)
        s.w60.trim(self.ts)
        return s.w60.mean()

    def _agg_max_1h(self, q: str) -> float:
        s = self._series(q)
        s.w60.trim(self.ts)
        return s.w60.max()

    def _agg_sum_1h(self, q: str) -> float:
        s = self._series(q)
        s.w60.trim(self.ts)
        return s.w60.total

    def _agg_sum_24h(self, q: str) -> float:
        return self._series(q).b24h.sum()

    def _agg_twa_8h(self, q: str) -> float:
        return self._series(q).b8h.mean()

    def _agg_daily_mean(self, q: str) -> float:
        closed = self._series(q).daily.closed
        interval = self.ns.interval_ms or 60_000
        # Evaluated at day close on yesterday's figures, with ≥ 80 % coverage (profiles.yaml).
        if closed is None or closed[0] != ict_day(self.ts) - 1 or closed[1] < 0.8 * DAY_MS / interval:
            raise Missing(q)
        return closed[2]

    def _agg_daily_min(self, q: str) -> float:
        d = self._series(q).daily
        if d.day != ict_day(self.ts):
            raise Missing(q)
        return d.lo

    def _agg_daily_max(self, q: str) -> float:
        d = self._series(q).daily
        if d.day != ict_day(self.ts):
            raise Missing(q)
        return d.hi

    def _agg_count_days_above(self, q: str, x: float, op: str, h: float, n: int) -> int:
        """Among the last n complete ICT days, those whose hours with q > x compare `op` h."""
        per_day = self.ns.hours.get((q, x), {})
        today = ict_day(self.ts)
        hours = [per_day.get(d, 0) / HOUR_MS for d in range(today - n, today)]
        test = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}[op]
        return sum(1 for v in hours if test(v, h))

    def _agg_consecutive_days(self, rule: str) -> int:
        """Days in a row, today included, on which `rule` held. The one profile use
        (`rice_blast_crit`) also requires that rule's condition now, so today counts."""
        days = self.ns.fired_days.get(rule, set())
        d, n = ict_day(self.ts) - 1, 1
        while d in days:
            n, d = n + 1, d - 1
        return n

    def _agg_mean_48h(self, q: str) -> float:
        return self._series(q).b48h.mean()

    def _agg_outside(self, q: str) -> float:
        outdoor = self.ns.cfg.outdoor_node
        other = self.engine.nodes.get((self.ns.site, outdoor)) if outdoor else None
        s = other.series.get(q) if other is not None else None
        if s is None or s.last is None or other is None or other.suppressed(q) or abs(self.ts - s.last_ts) > FRESH_MS:
            raise Missing(f"outside({q})")
        return s.last

    def _agg_night_mean(self, q: str) -> float:
        v = self._series(q).night.closed
        if v is None:
            raise Missing(q)
        return v


def _fresh_ms(ns: NodeState) -> int:
    """How far apart a peer's reading may be from this node's to be compared with it: two intervals, at
    least 10 min."""
    return max(2 * (ns.interval_ms or 60_000), 600_000)


def _silenced(r: Rule, broken: set[str], drifting: set[str]) -> bool:
    """Whether the node's faulty or drifting probes leave rule `r` unjudged (see `DRIFT_SPARES`)."""
    q = r.expr.quantities
    if broken and not broken.isdisjoint(q):
        return True
    return bool(drifting) and r.severity != "critical" and not drifting.isdisjoint(q) and DRIFT_SPARES.isdisjoint(q)


def _day_month(ts: int) -> int:
    from datetime import UTC, datetime

    return datetime.fromtimestamp((ts + ICT_MS) / 1000, UTC).month


_FUNCS: Final[dict[str, Any]] = {
    "vpd": vpd, "dewpoint": dew_point, "thi": thi, "heat_index": heat_index, "do_pct_sat": do_pct_sat, "uia": uia,
    "blast_lwd_required_h": lambda t: _need(blast_lwd_required_h(t)),
}


def _need(v: float | None) -> float:
    if v is None:
        raise Missing("outside the function's domain")
    return v


class Engine:
    def __init__(self, sites: SiteDirectory | None = None, lifecycle: Lifecycle | None = None) -> None:
        self.sites = sites or SiteDirectory()
        self.lifecycle = lifecycle or Lifecycle()
        self.nodes: dict[tuple[str, str], NodeState] = {}
        self.latest: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}
        self._value_code: dict[str, CodeType] = {}
        self.unsupported_logged: set[str] = set()
        # id(site config) → (that config, its rules): a lookup per reading instead of freezing its overrides
        self._rule_sets: dict[int, tuple[SiteConfig, RuleSet]] = {}

    # -- inputs --------------------------------------------------------------------------------------

    def node_state(self, site: str, node: str) -> NodeState:
        ns = self.nodes.get((site, node))
        if ns is None:
            cfg = self.sites.get(site)
            ns = self.nodes[(site, node)] = NodeState(site, node, cfg)
            rs = self._rules(cfg)
            if rs.unsupported and cfg.profile not in self.unsupported_logged:
                self.unsupported_logged.add(cfg.profile or "")
                event(log, "rules_not_evaluated", profile=cfg.profile, rules=",".join(i for i, _ in rs.unsupported))
        return ns

    def _rules(self, cfg: SiteConfig) -> RuleSet:
        hit = self._rule_sets.get(id(cfg))
        if hit is not None and hit[0] is cfg:
            return hit[1]
        if len(self._rule_sets) > 4096:  # configs replaced by registry changes
            self._rule_sets.clear()
        rs = rules_mod.build(cfg.profile, cfg.overrides)
        self._rule_sets[id(cfg)] = (cfg, rs)
        return rs

    def process(self, site: str, decoded: Decoded, now: int) -> Output:
        out = Output()
        ns = self.node_state(site, decoded.node)
        ns.cfg = self.sites.get(site)  # cached; picks up registry changes
        by_seq = {r.seq: r.ts for r in decoded.readings}
        bad: dict[int, dict[str, float | None]] = {}
        for rej in decoded.rejections:
            if rej.quantity and rej.reason in BAD_REASONS:
                ts = by_seq.get(rej.seq, ns.last_ts or now) if rej.seq is not None else (ns.last_ts or now)
                bad.setdefault(ts, {})[rej.quantity] = None
        readings = sorted(decoded.readings, key=lambda r: r.ts)
        for r in readings:
            self._reading(ns, r, bad.pop(r.ts, {}), now, out)
        for ts, qs in bad.items():
            self._bad_only(ns, ts, qs, out)
        return out

    def status(self, site: str, node: str, st: Status, now: int) -> Output:
        out = Output()
        ns = self.node_state(site, node)
        ns.offline = st.state == "offline"
        self._node_offline(ns, now, out)
        return out

    def tick(self, now: int) -> Output:
        """Node silence: evaluated on the caller's clock (wall time live, stream time in the benchmark)."""
        out = Output()
        for ns in self.nodes.values():
            if ns.interval_ms and ns.last_seen:
                self._node_offline(ns, now, out)
        return out

    def control(self, c: Control, now: int) -> Output:
        """Apply a site's current acknowledgements and silences (analytics/control.py)."""
        out = Output()
        transitions: list[Transition] = []
        for alert_id in c.acks:
            a = self.lifecycle.find(alert_id)
            if a is not None and a.key[0] == c.site:
                t = self.lifecycle.acknowledge(alert_id, now)
                if t is not None:
                    transitions.append(t)
        silences = [Silence(c.site, s.end, s.node, None, s.start) for s in c.silences]
        transitions.extend(self.lifecycle.set_silences(c.site, silences, now))
        for t in transitions:
            out.events.append(self._event(t))
        return out

    # -- one reading ---------------------------------------------------------------------------------

    def _bad_only(self, ns: NodeState, ts: int, qs: dict[str, float | None], out: Output) -> None:
        for q in qs:
            ns.fault(q).implausible(ts)
            self._fault_alerts(ns, q, ts, out)

    def _reading(self, ns: NodeState, r: Reading, bad: dict[str, float | None], now: int, out: Output) -> None:
        ts = r.ts
        ns.seen(r, now)
        if ns.offline or self.lifecycle.is_firing((ns.site, ns.node, "node.offline")):
            ns.offline = False
            self._node_offline(ns, now, out)
        values = dict(r.m)
        if r.battery_v is not None:
            values["battery_v"] = r.battery_v
        if r.rssi is not None:
            values["rssi"] = r.rssi
        profile = ns.cfg.profile
        good: dict[str, float] = {}
        for q in bad:
            ns.fault(q).implausible(ts)
        for q, v in values.items():
            ns.raw[q] = v
            f = ns.fault(q)
            lo, hi = rules_mod.plausible_range(profile, q)
            if not lo <= v <= hi or is_sentinel(q, v):
                f.implausible(ts)
                continue
            if q in HEALTH_FIELDS:
                f.good_since_bad += 1
                accepted = [(ts, v)]
            else:
                accepted = f.observe(ts, v, self._sun(ns, ts) if q == "light" else 0)
            series = ns.series.get(q)
            if series is None:
                series = ns.series[q] = Series(self._rules(ns.cfg).windows.get(q, frozenset()))
            for t_, v_ in accepted:
                if q == "dissolved_oxygen":
                    ns.do_fc.add(t_, v_)
                closed = series.add(t_, v_)
                if closed is not None and q == "air_temp":
                    self._daily_derived(ns, closed, out)
                if t_ == ts:
                    good[q] = v_
        for q, v in good.items():
            if compared(profile, q):
                self._neighbour_drift(ns, q, v, ts)
        if profile in BARNS and "nh3" in good and "co2" in good:
            if ns.tracer is None:
                ns.tracer = TracerDrift()
            ns.tracer.update(good["nh3"], good["co2"], ts)
            ns.tracer.share(self._site_tracers(ns, ts) if ns.tracer.pair.active else [])
        if "soil_ec" in good:
            wetness = "soil_moisture" if "soil_moisture" in good else "water_level"
            if wetness in good:
                if ns.ec is None:
                    ns.ec = EcDrift(wetness)
                ns.ec.update(good["soil_ec"], good[wetness], ts)
        for q in values.keys() | bad.keys():
            self._fault_alerts(ns, q, ts, out)
        if "leaf_wetness" in good or ("air_humidity" in good and "leaf_wetness" not in ns.series):
            wet = good["leaf_wetness"] >= 50.0 if "leaf_wetness" in good else good["air_humidity"] >= 90.0
            ns.wet.add(ts, wet, good.get("air_temp"))
        if rs_hours := self._rules(ns.cfg).hours_above:
            self._count_hours(ns, rs_hours, good, ts)
        self._derived(ns, good, ts, out)
        self._evaluate_rules(ns, values.keys() | bad.keys(), ts, out)
        if ns.loss or self.lifecycle.is_active((ns.site, ns.node, "node.link_loss")):
            self._link_alert(ns, ts, out)

    # -- sensor faults -------------------------------------------------------------------------------

    def _sun(self, ns: NodeState, ts: int) -> float:
        """Hours inside the day at the site (the nearer of sunrise and sunset), negative at night: 1.5 is an
        hour and a half inside the day, −2 two hours into the night (§8.7)."""
        rise, set_ = sun_times_local_h(ns.cfg.lat, ns.cfg.lon, _day_of_year(ts))
        hour = ((ts + ICT_MS) % DAY_MS) / HOUR_MS
        if rise <= hour <= set_:
            return min(hour - rise, set_ - hour)
        return -min((rise - hour) % 24.0, (hour - set_) % 24.0)

    def _neighbour_drift(self, ns: NodeState, q: str, v: float, ts: int) -> None:
        site, me = ns.site, ns.node
        peers = self.latest.get((site, q))
        if peers is None:
            peers = self.latest[(site, q)] = {}
        peers[me] = (ts, v)
        window = _fresh_ms(ns)
        nodes = self.nodes
        d = ns.drift.get(q)
        others: dict[str, float] = {}
        for node in d.peer_names if d is not None else ():
            t_, pv = peers[node]
            if abs(t_ - ts) <= window and not nodes[(site, node)].suppressed(q):
                others[node] = pv
        if len(others) < 2:
            # (Re)choose at most MAX_PEERS comparable peers: a big site must not cost O(nodes) per reading.
            others = {}
            for node, (t_, pv) in peers.items():
                if node != me and abs(t_ - ts) <= window and not nodes[(site, node)].suppressed(q):
                    others[node] = pv
                    if len(others) == MAX_PEERS:
                        break
            if not others and d is None:
                return
            if d is not None:
                d.peer_names = list(others)
        if d is None:
            d = ns.drift[q] = PeerDrift(q, ns.cfg.profile)
            d.peer_names = list(others)
        lone = None
        if len(others) == 1:  # one pair: the two nodes' own profiles tell which one moved
            peer = nodes[(site, next(iter(others)))].drift.get(q)
            lone = peer.own if peer is not None else None
        d.update(v, others, ts, lone)

    def _site_tracers(self, ns: NodeState, ts: int) -> list[float]:
        """The departures of the NH3/CO2 ratios of the site's other barn nodes, read lately, neither gas
        faulty or drifting."""
        window = _fresh_ms(ns)
        out = []
        for node in self.latest.get((ns.site, "nh3"), ()):
            other = self.nodes.get((ns.site, node))
            if other is None or other is ns or other.tracer is None:
                continue
            if abs(ts - other.tracer.ts) <= window and not (other.suppressed("co2") or other.suppressed("nh3")):
                out.append(other.tracer.departure)
        return out

    def _fault_alerts(self, ns: NodeState, q: str, ts: int, out: Output) -> None:
        f = ns.faults.get(q)
        if f is None:
            return
        conds = (
            ("implausible", f.is_implausible),
            ("stuck", f.stuck),
            ("spike", f.spike_active(ts)),
            ("drift", ns.drifting(q) or f.physical_drift),
        )
        if not f.alerting and not (conds[0][1] or conds[1][1] or conds[2][1] or conds[3][1]):
            return  # the usual reading: nothing wrong, and no fault alert of this probe to resolve
        value = ns.raw.get(q)
        active = self.lifecycle.active
        alerting = False
        for kind, cond in conds:
            key = (ns.site, ns.node, f"{q}.{kind}")
            if not cond and key not in active:
                continue
            meta = {"quantity": q, "fault": kind, "value": value, "kind": "sensor", "audience": "technician"}
            t = self.lifecycle.evaluate(key, cond, ts, 0, "warning", meta)
            if t is not None:
                out.events.append(self._event(t))
            alerting = alerting or key in active
        f.alerting = alerting

    def _node_offline(self, ns: NodeState, now: int, out: Output) -> None:
        silent = bool(ns.interval_ms) and now - ns.last_seen > max(SILENT_INTERVALS * ns.interval_ms, 60_000)
        cond = ns.offline or silent
        key = (ns.site, ns.node, "node.offline")
        if not cond and key not in self.lifecycle.active:
            return
        meta = {"node_kind": "offline", "kind": "node", "audience": "technician"}
        t = self.lifecycle.evaluate(key, cond, now, 0, "warning", meta)
        if t is not None:
            out.events.append(self._event(t))

    def _link_alert(self, ns: NodeState, ts: int, out: Output) -> None:
        key = (ns.site, ns.node, "node.link_loss")
        firing = self.lifecycle.is_firing(key)
        cond = ns.loss > (LOSS_CLEAR if firing else LOSS_FIRE)
        meta = {"node_kind": "link_loss", "kind": "node", "audience": "technician", "value": round(100 * ns.loss, 1)}
        t = self.lifecycle.evaluate(key, cond, ts, 0, "warning", meta)
        if t is not None:
            out.events.append(self._event(t))

    def _count_hours(self, ns: NodeState, tracked: frozenset[tuple[str, float]], good: dict[str, float],
                     ts: int) -> None:
        """Hours per ICT day above each level a rule counts (`hours_above`), from good readings."""
        for q, x in tracked:
            v = good.get(q)
            if v is None:
                continue
            prev = ns.hours_ts.get(q)
            ns.hours_ts[q] = ts
            if prev is None or ts <= prev:
                continue
            if v > x:
                per_day = ns.hours.setdefault((q, x), {})
                day = ict_day(ts)
                # A gap counts at most two intervals: silence is not evidence of warmth.
                per_day[day] = per_day.get(day, 0) + min(ts - prev, 2 * (ns.interval_ms or HOUR_MS))
                for old in [d for d in per_day if d < day - 20]:
                    del per_day[old]

    # -- derived indicators --------------------------------------------------------------------------

    def _derived(self, ns: NodeState, good: dict[str, float], ts: int, out: Output) -> None:
        fields: dict[str, float] = {}
        t, rh = good.get("air_temp"), good.get("air_humidity")
        if t is not None and rh is not None:
            fields["dew_point"] = dew_point(t, rh)
            fields["vpd"] = vpd(t, rh)
            fields["heat_index"] = heat_index(t, rh)
            if ns.cfg.profile in BARNS:
                fields["thi"] = thi(t, rh)
        do, wt = good.get("dissolved_oxygen"), good.get("water_temp")
        if do is not None and wt is not None:
            fields["do_pct_sat"] = do_pct_sat(do, wt)
        if fields:
            line = derived_line(ns.site, ns.node, fields, ts)
            if line:
                out.lines.append(line)

    def _daily_derived(self, ns: NodeState, closed: tuple[int, int, float, float, float], out: Output) -> None:
        day, n, mean, lo, hi = closed
        if n < 0.8 * DAY_MS / (ns.interval_ms or 60_000):
            return  # a day with too few readings gives no daily figure
        day_start = day * DAY_MS - ICT_MS
        ra = extraterrestrial_radiation(ns.cfg.lat, _day_of_year(day_start + HOUR_MS))
        fields = {"gdd": gdd(hi, lo), "et0": hargreaves_et0(hi, lo, ra, mean)}
        if ns.wet.closed_wet_h is not None and ns.wet.closed_wet_h[0] == day:
            fields["leaf_wetness_h"] = ns.wet.closed_wet_h[1]
        line = derived_line(ns.site, ns.node, fields, day_start)
        if line:
            out.lines.append(line)

    # -- agronomic rules -----------------------------------------------------------------------------

    def _evaluate_rules(self, ns: NodeState, quantities: Any, ts: int, out: Output) -> None:
        rs = self._rules(ns.cfg)
        if not rs.rules:
            return
        rules = rs.rules_for(frozenset(quantities))
        if not rules:
            return
        faulty = {q for q in ns.faults if ns.suppressed(q)}
        broken = {q for q in faulty if ns.probe_faulty(q)} if faulty else faulty
        drifting = faulty - broken
        ctx = _Ctx(self, ns, ts, broken)
        lc = self.lifecycle
        for r in rules:
            key = (ns.site, ns.node, r.id)
            cond: bool | None
            if faulty and _silenced(r, broken, drifting):
                cond = None
            elif r.inhibited_by and lc.is_active((ns.site, ns.node, r.inhibited_by)):
                cond = False
                # The inhibiting rule implies this one's condition: it holds today all the same.
                ns.fired_days.setdefault(r.id, set()).add(ict_day(ts))
            else:
                try:
                    cond = bool(eval(r.expr.held if lc.is_firing(key) else r.expr.code, _SAFE, ctx))
                except (Missing, ArithmeticError, ValueError, TypeError):
                    cond = None
            if cond is None and key not in lc.active:
                continue
            if cond is False and key not in lc.active:
                continue
            if cond:
                ns.fired_days.setdefault(r.id, set()).add(ict_day(ts))
            meta = {"quantity": r.quantity, "threshold": r.threshold, "op": r.op, "kind": r.kind,
                    "audience": r.audience, "vi_hint": r.vi_hint, "rule": r.id, "threshold_rule": r.threshold_rule}
            t = lc.evaluate(key, cond, ts, r.min_duration_ms, r.severity, meta, r.repeat_ms)
            if t is None:
                continue
            t.alert.meta["value"] = self._value(r, ctx)
            # Spared by a drift (DRIFT_SPARES): the farmer is told the probe may be the cause.
            t.alert.meta["probe_suspect"] = bool(drifting) and not drifting.isdisjoint(r.expr.quantities)
            if r.kind == "forecast" and "do_forecast_sunrise" in r.expr.names:
                t.alert.meta["ts_expected"] = ns.do_fc.sunrise
            out.events.append(self._event(t))

    def _value(self, r: Rule, ctx: _Ctx) -> float | None:
        if not r.value_source:
            return None
        code = self._value_code.get(r.value_source)
        if code is None:
            code = self._value_code[r.value_source] = compile_expr(r.value_source).code
        try:
            v = eval(code, _SAFE, ctx)
        except (Missing, ArithmeticError, ValueError, TypeError):
            return None
        return float(v) if isinstance(v, int | float) and math.isfinite(v) else None

    # -- events --------------------------------------------------------------------------------------

    def _event(self, t: Transition) -> AlertEvent:
        a = t.alert
        site, node, rule = a.key
        m = a.meta
        q = m.get("quantity")
        value = m.get("value")
        return AlertEvent(
            id=a.id, site=site, node=None if node == "-" else node, rule=rule, kind=m.get("kind", "agronomic"),
            audience=m.get("audience", "farmer"), severity=a.severity, state=t.state, started=a.started, ts=t.ts,
            text=render(t.state, a.severity, site, node, m, a.started),
            quantity=q, value=None if value is None else round(float(value), 3), threshold=m.get("threshold"),
            unit=QUANTITIES[q].unit if q in QUANTITIES else None, ts_expected=m.get("ts_expected") or None,
        )


def restore_key(key: list[str] | tuple[str, str, str]) -> Key:
    return (key[0], key[1], key[2])
