"""Rule expressions of profiles.yaml (`rules: expr`), compiled once into safe Python code objects.

The syntax is a subset of Python: comparisons, and/or/not, + − × ÷, numbers, strings, lists, names
and calls of the functions in `AGGREGATES` and `FUNCTIONS`. Anything else (attribute access,
subscripts, lambdas, unknown names) is refused at compile time, so `eval` only ever sees a vetted tree
with no builtins. A quantity name inside an aggregate call (`mean_10min(air_temp)`) becomes its name
as a string; a bare quantity name is its latest value.

Hysteresis: besides the plain code, a `held` variant shifts every numeric threshold compared with a
measured value by `margin(threshold)` towards "still true". A firing alert is evaluated with it, so a
value hovering at the threshold does not flap.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Final

from contract.quantities import QUANTITIES

AGGREGATES: Final = frozenset({
    "mean_10min", "mean_1h", "max_1h", "sum_1h", "sum_24h", "twa_8h", "mean_48h",
    "outside",  # the latest value of q at the site's outdoor reference node
    "daily_mean", "daily_min", "daily_max", "night_mean",
})
# Functions of another rule of the same node, named by its id (`consecutive_days(rice_blast_warn)`).
RULE_FUNCTIONS: Final = frozenset({"consecutive_days"})
# Functions of the node's own history, given constants (made by _DayCounts).
HISTORY_FUNCTIONS: Final = frozenset({"count_days_above"})
FUNCTIONS: Final = frozenset({"vpd", "dewpoint", "thi", "heat_index", "do_pct_sat", "blast_lwd_required_h", "uia"})
CONTEXT_NAMES: Final = frozenset({
    "hour", "month", "stage", "do_forecast_sunrise", "lwd_h", "lwd_mean_temp",
    "tan_mg_l",  # the pond's last total-ammonia test, entered by hand (sites file)
})
# Context values computed from quantities: a fault on those suppresses the rule.
IMPLIED: Final[dict[str, set[str]]] = {
    "do_forecast_sunrise": {"dissolved_oxygen"},
    "lwd_h": {"air_temp"},
    "lwd_mean_temp": {"air_temp"},
}
# Comparisons with these are calendar/stage conditions, never shifted by hysteresis.
_NO_HYSTERESIS: Final = frozenset({"hour", "month", "stage"})
_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.BinOp, ast.Add,
    ast.Sub, ast.Mult, ast.Div, ast.Compare, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In,
    ast.NotIn, ast.Call, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple,
)


def _number(node: ast.expr, bad: ExprError) -> float:
    value = getattr(node, "value", None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    return float(value)


class ExprError(ValueError):
    """An expression this evaluator does not support; the message says which part."""


@dataclass(frozen=True, slots=True)
class CompiledExpr:
    source: str
    code: CodeType
    held: CodeType
    quantities: frozenset[str]
    names: frozenset[str]
    shape: str  # the expression with its numbers blanked: equal shapes differ only in thresholds
    calls: frozenset[tuple[str, str]] = frozenset()  # (aggregate function, quantity)
    hours_above: frozenset[tuple[str, float]] = frozenset()  # (quantity, level) counted per day


def _check(tree: ast.AST, source: str) -> tuple[set[str], set[str]]:
    quantities: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExprError(f"{source!r}: {type(node).__name__} is not supported")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ExprError(f"{source!r}: only plain calls of known functions are supported")
            fn = node.func.id
            if fn not in AGGREGATES | FUNCTIONS | RULE_FUNCTIONS | HISTORY_FUNCTIONS:
                raise ExprError(f"{source!r}: function {fn}() is not evaluated yet")
            if fn in RULE_FUNCTIONS and (len(node.args) != 1 or not isinstance(node.args[0], ast.Name)):
                raise ExprError(f"{source!r}: {fn}() takes one rule id")
            if fn in AGGREGATES and (len(node.args) != 1 or not isinstance(node.args[0], ast.Name)):
                raise ExprError(f"{source!r}: {fn}() takes one quantity name")
        parent = getattr(node, "_parent", None)
        rule_arg = isinstance(parent, ast.Call) and getattr(parent.func, "id", None) in RULE_FUNCTIONS
        if isinstance(node, ast.Name) and not (isinstance(parent, ast.Call) and parent.func is node) and not rule_arg:
            if node.id in QUANTITIES:
                quantities.add(node.id)
            elif node.id in CONTEXT_NAMES:
                names.add(node.id)
            elif node.id not in AGGREGATES | FUNCTIONS | RULE_FUNCTIONS | HISTORY_FUNCTIONS:
                raise ExprError(f"{source!r}: name {node.id!r} is not known here")
    return quantities, names


class _QuoteAggregateArgs(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and (node.func.id in AGGREGATES or node.func.id in RULE_FUNCTIONS):
            arg = node.args[0]
            assert isinstance(arg, ast.Name)
            node.args = [ast.copy_location(ast.Constant(arg.id), arg)]
        return node


def _mentions_calendar(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in _NO_HYSTERESIS for n in ast.walk(node))


class _Hold(ast.NodeTransformer):
    """Shift `x < c` to `x < c + m` and `x > c` to `x > c − m` (and the mirrored forms)."""

    def __init__(self, margin: Callable[[float], float]) -> None:
        self.margin = margin

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) != 1 or _mentions_calendar(node):
            return node
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(right, ast.Constant) and isinstance(right.value, int | float):
            c = float(right.value)
            if isinstance(op, ast.Lt | ast.LtE):
                node.comparators = [ast.Constant(c + self.margin(c))]
            elif isinstance(op, ast.Gt | ast.GtE):
                node.comparators = [ast.Constant(c - self.margin(c))]
        elif isinstance(left, ast.Constant) and isinstance(left.value, int | float):
            c = float(left.value)
            if isinstance(op, ast.Lt | ast.LtE):
                node.left = ast.Constant(c - self.margin(c))
            elif isinstance(op, ast.Gt | ast.GtE):
                node.left = ast.Constant(c + self.margin(c))
        return node


class _Blank(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("#") if isinstance(node.value, int | float) else node


def default_margin(c: float) -> float:
    return 0.02 * abs(c)


_OPS: Final = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<="}


class _DayCounts(ast.NodeTransformer):
    """`count_days(hours_above(q, x) >= h, n)` → `count_days_above('q', x, '>=', h, n)`: the one
    day-counting form of the profiles, kept as per-day hour counts instead of a lazy condition."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tracked: set[tuple[str, float]] = set()

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id == "count_days"):
            return node
        bad = ExprError(f"{self.source!r}: count_days() supports only count_days(hours_above(q, x) >= h, n)")
        if len(node.args) != 2 or not isinstance(node.args[0], ast.Compare):
            raise bad
        if not isinstance(node.args[1], ast.Constant):
            raise bad
        cmp = node.args[0]
        inner = cmp.left
        if (len(cmp.ops) != 1 or type(cmp.ops[0]) not in _OPS or not isinstance(cmp.comparators[0], ast.Constant)
                or not isinstance(inner, ast.Call) or getattr(inner.func, "id", None) != "hours_above"
                or len(inner.args) != 2 or not isinstance(inner.args[0], ast.Name)
                or not isinstance(inner.args[1], ast.Constant)):
            raise bad
        x, h, n = (_number(c, bad) for c in (inner.args[1], cmp.comparators[0], node.args[1]))
        q = inner.args[0].id
        if q not in QUANTITIES:
            raise bad
        self.tracked.add((q, x))
        args: list[str | float | int] = [q, x, _OPS[type(cmp.ops[0])], h, int(n)]
        return ast.copy_location(ast.Call(ast.Name("count_days_above", ast.Load()), [ast.Constant(a) for a in args],
                                          []), node)


def compile_expr(source: str, margin: Callable[[float], float] = default_margin) -> CompiledExpr:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"{source!r}: {exc.msg}") from None
    days = _DayCounts(source)
    tree = ast.fix_missing_locations(days.visit(tree))
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child._parent = node  # type: ignore[attr-defined]
    # Arguments of aggregate calls are quantity names too.
    quantities, names = _check(tree, source)
    quantities |= {q for q, _ in days.tracked}
    for name in names:
        quantities |= IMPLIED.get(name, set())
    calls = frozenset(
        (n.func.id, n.args[0].id) for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in AGGREGATES
        and isinstance(n.args[0], ast.Name)
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in AGGREGATES:
            arg = node.args[0]
            if isinstance(arg, ast.Name):
                if arg.id not in QUANTITIES:
                    raise ExprError(f"{source!r}: {arg.id!r} is not a quantity")
                quantities.add(arg.id)
    plain = _QuoteAggregateArgs().visit(tree)
    ast.fix_missing_locations(plain)
    shape = ast.dump(_Blank().visit(ast.parse(ast.unparse(plain), mode="eval")))
    held = _Hold(margin).visit(ast.parse(ast.unparse(plain), mode="eval"))
    ast.fix_missing_locations(held)
    return CompiledExpr(
        source=source,
        code=compile(plain, "<rule>", "eval"),
        held=compile(held, "<rule-held>", "eval"),
        quantities=frozenset(quantities),
        names=frozenset(names),
        shape=shape,
        calls=calls,
        hours_above=frozenset(days.tracked),
    )
