"""The rules of one site, built from its profile in profiles.yaml plus per-site overrides.

Quantity thresholds become `<agg>(q) < warn_low` etc. (strict comparisons, profiles.yaml
`conventions.comparison`), rule id `<quantity>.<warn|crit>_<low|high>`; a warning is inhibited while
the critical rule on the same quantity and side is pending or firing. Named rules keep their profile
id and expression; a warning rule whose expression differs from a critical rule's only in its numbers
is inhibited by it the same way. Expressions this evaluator cannot compute yet are listed in
`RuleSet.unsupported` (and in docs/analytics.md), never silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from analytics.aggregates import WINDOWS_OF
from analytics.expr import CompiledExpr, ExprError, compile_expr
from contract.quantities import QUANTITIES
from ruongso import profiles

# Hysteresis per quantity, about twice the sensor accuracy of agronomy.md §9 (UNSOURCED choice).
HYSTERESIS: Final[dict[str, float]] = {
    "air_temp": 0.5, "air_humidity": 2.0, "soil_moisture": 1.0, "soil_temp": 0.5, "soil_ec": 0.1,
    "soil_ph": 0.1, "water_temp": 0.3, "water_ph": 0.1, "dissolved_oxygen": 0.2, "water_level": 1.0,
    "light": 1000.0, "rain": 2.0, "wind_speed": 0.5, "co2": 100.0, "nh3": 2.0, "leaf_wetness": 5.0,
    "battery_v": 0.05, "rssi": 3.0,
}
DAILY: Final = ("daily_mean", "daily_min", "daily_max")
FORECAST_NAMES: Final = frozenset({"do_forecast_sunrise", "lwd_h", "lwd_mean_temp"})


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str
    audience: str
    severity: str
    expr: CompiledExpr
    min_duration_ms: int
    quantity: str | None = None
    threshold: float | None = None
    op: str | None = None
    value_source: str | None = None  # aggregate expression whose value the event reports
    vi_hint: str | None = None
    inhibited_by: str | None = None
    threshold_rule: bool = False
    repeat_ms: int | None = None  # None: the service's repeat interval


@dataclass(slots=True)
class RuleSet:
    profile: str | None
    rules: list[Rule] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    by_quantity: dict[str, list[Rule]] = field(default_factory=dict)
    by_id: dict[str, Rule] = field(default_factory=dict)
    windows: dict[str, frozenset[str]] = field(default_factory=dict)  # quantity → aggregate windows read
    hours_above: frozenset[tuple[str, float]] = frozenset()  # (quantity, level) whose daily hours are counted
    ordered: dict[frozenset[str], tuple[Rule, ...]] = field(default_factory=dict)  # cache of rules_for

    def rules_for(self, quantities: frozenset[str]) -> tuple[Rule, ...]:
        """The rules reading any of `quantities`, each once, critical first (so a critical rule that fires
        inhibits its warning in the same reading). Cached: a node sends the same quantities every time."""
        got = self.ordered.get(quantities)
        if got is None:
            seen: dict[str, Rule] = {}
            for q in sorted(quantities):
                for r in self.by_quantity.get(q, ()):
                    seen.setdefault(r.id, r)
            got = self.ordered[quantities] = tuple(sorted(seen.values(), key=lambda r: r.severity != "critical"))
        return got


def _constant(h: float) -> Callable[[float], float]:
    return lambda _c: h


def _threshold_rules(q: str, spec: dict[str, Any], over: dict[str, float | None]) -> list[Rule]:
    health = QUANTITIES[q].health if q in QUANTITIES else False
    kind, audience = ("node", "technician") if health else ("agronomic", "farmer")
    h = HYSTERESIS.get(q, 0.0)
    by_thr = spec.get("min_duration_s_by_threshold") or {}
    base_dur = over.get("min_duration_s", spec.get("min_duration_s") or 0) or 0
    out = []
    for side, op in (("low", "<"), ("high", ">")):
        for level, severity in (("crit", "critical"), ("warn", "warning")):
            name = f"{level}_{side}"
            thr = over[name] if name in over else spec.get(name)
            if thr is None:
                continue
            agg = spec.get(f"agg_{name}") or spec.get(f"agg_{side}") or "instant"
            source = q if agg == "instant" else f"{agg}({q})"
            dur = 0 if agg in DAILY else by_thr.get(name, base_dur)
            expr = compile_expr(f"{source} {op} {float(thr)!r}", _constant(h))
            out.append(Rule(
                id=f"{q}.{name}", kind=kind, audience=audience, severity=severity, expr=expr,
                repeat_ms=DAY_MS if agg in DAILY else None,
                min_duration_ms=int(float(dur) * 1000), quantity=q, threshold=float(thr), op=op,
                value_source=source, vi_hint=spec.get(f"vi_{side}"),
                inhibited_by=f"{q}.crit_{side}" if level == "warn" else None, threshold_rule=True,
            ))
    return out


def _value_source(expr: CompiledExpr) -> str | None:
    """The left side of the expression's last comparison, reported as the event's value."""
    import ast

    tree = ast.parse(expr.source, mode="eval").body
    while isinstance(tree, ast.BoolOp):
        tree = tree.values[-1]
    if isinstance(tree, ast.Compare) and len(tree.ops) == 1:
        return ast.unparse(tree.left)
    return None


def _threshold_of(expr: CompiledExpr) -> float | None:
    import ast

    tree = ast.parse(expr.source, mode="eval").body
    while isinstance(tree, ast.BoolOp):
        tree = tree.values[-1]
    if isinstance(tree, ast.Compare) and isinstance(tree.comparators[-1], ast.Constant):
        v = tree.comparators[-1].value
        return float(v) if isinstance(v, int | float) else None
    return None


DAY_MS: Final = 86_400_000


def _daily(e: CompiledExpr) -> bool:
    """Judged once a day (daily aggregates, day counts): announced again once a day, not every 4 h."""
    return any(fn in DAILY for fn, _ in e.calls) or bool(e.hours_above) or "consecutive_days" in e.source


def _clauses(e: CompiledExpr) -> list[str]:
    """The `and` clauses of an expression, as comparable dumps."""
    import ast

    body = ast.parse(e.source, mode="eval").body
    parts = body.values if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) else [body]
    return [ast.dump(p) for p in parts]


def _inhibitor(e: CompiledExpr, by_shape: dict[str, str], crit_clauses: list[tuple[list[str], str]]) -> str | None:
    """The critical rule that implies this warning: same shape with other numbers, or the warning's
    condition and more (`rice_blast_crit` = `rice_blast_warn`'s condition and the heading stage)."""
    if e.shape in by_shape:
        return by_shape[e.shape]
    mine = _clauses(e)
    return next((cid for clauses, cid in crit_clauses if clauses[: len(mine)] == mine and len(clauses) > len(mine)),
                None)


def _named_rules(specs: list[dict[str, Any]]) -> tuple[list[Rule], list[tuple[str, str]]]:
    compiled: list[tuple[dict[str, Any], CompiledExpr]] = []
    unsupported = []
    for spec in specs:
        try:
            compiled.append((spec, compile_expr(spec["expr"])))
        except ExprError as exc:
            unsupported.append((spec["id"], str(exc)))
    crit_by_shape = {e.shape: s["id"] for s, e in compiled if s.get("severity") == "critical"}
    crit_clauses = [(_clauses(e), s["id"]) for s, e in compiled if s.get("severity") == "critical"]
    rules = []
    for spec, e in compiled:
        forecast = bool(e.names & FORECAST_NAMES)
        quantity = next(iter(e.quantities)) if len(e.quantities) == 1 else None
        value_source = _value_source(e)
        if quantity is not None and value_source not in (quantity, *(f"{fn}({quantity})" for fn, _ in e.calls)):
            quantity = None  # the value is not the quantity itself (a count of days, an index): no unit
        rules.append(Rule(
            id=spec["id"], kind="forecast" if forecast else "agronomic", audience="farmer",
            severity=spec.get("severity", "warning"), expr=e,
            min_duration_ms=int(float(spec.get("min_duration_s") or 0) * 1000),
            quantity=quantity, threshold=_threshold_of(e), value_source=value_source, vi_hint=spec.get("vi"),
            repeat_ms=DAY_MS if _daily(e) else None,
            inhibited_by=_inhibitor(e, crit_by_shape, crit_clauses) if spec.get("severity") == "warning" else None,
        ))
    return rules, unsupported


def _freeze(overrides: dict[str, dict[str, float | None]]) -> tuple[Any, ...]:
    return tuple(sorted((q, tuple(sorted(v.items()))) for q, v in overrides.items()))


def build(profile_id: str | None, overrides: dict[str, dict[str, float | None]] | None = None) -> RuleSet:
    return _build(profile_id, _freeze(overrides or {}))


@cache
def _build(profile_id: str | None, frozen: tuple[Any, ...]) -> RuleSet:
    overrides = {q: dict(items) for q, items in frozen}
    rs = RuleSet(profile_id)
    if profile_id is None:
        return rs
    prof = profiles.profile(profile_id)
    for q, spec in prof.get("quantities", {}).items():
        if q in QUANTITIES:
            rs.rules.extend(_threshold_rules(q, spec, overrides.get(q, {})))
    specs = list(prof.get("rules") or [])
    common = profiles.load().get("common_rules") or {}
    if profile_id in (common.get("applies_to") or []):
        specs.extend(common.get("rules") or [])
    named, rs.unsupported = _named_rules(specs)
    rs.rules.extend(named)
    index: dict[str, list[Rule]] = defaultdict(list)
    for r in rs.rules:
        for q in r.expr.quantities:
            index[q].append(r)
        rs.by_id[r.id] = r
    wins: dict[str, set[str]] = defaultdict(set)
    for r in rs.rules:
        for fn, q in r.expr.calls:
            wins[q].add(WINDOWS_OF[fn])
    rs.windows = {q: frozenset(w) for q, w in wins.items()}
    rs.hours_above = frozenset(t for r in rs.rules for t in r.expr.hours_above)
    # Critical before warning, so an inhibiting rule is updated before the rule it inhibits.
    rs.by_quantity = {q: sorted(v, key=lambda r: r.severity != "critical") for q, v in index.items()}
    return rs


@cache
def plausible_range(profile_id: str | None, q: str) -> tuple[float, float]:
    """The profile's plausible bounds for q (may be narrower than the contract's), else the contract's."""
    qq = QUANTITIES[q]
    if profile_id:
        spec = profiles.profile(profile_id).get("quantities", {}).get(q)
        if spec and spec.get("plausible_min") is not None and spec.get("plausible_max") is not None:
            return float(spec["plausible_min"]), float(spec["plausible_max"])
    return float(qq.plausible_min), float(qq.plausible_max)
