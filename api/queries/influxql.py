"""Pieces of InfluxQL built only from validated values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from contract.quantities import QUANTITIES
from contract.topics import check_slug
from ruongso.influx import Series, quote_ident, quote_literal


class Querier(Protocol):
    """InfluxClient, or the API's cached reader in front of it."""

    def query(self, q: str, epoch: str = "ms") -> list[Series]: ...


AGGREGATES = ("mean", "min", "max", "last", "sum", "count")


def field(quantity: str) -> str:
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}")
    return quote_ident(quantity)


def tag_equals(tag: str, value: str) -> str:
    return f"{quote_ident(tag)} = {quote_literal(check_slug(value, tag))}"


def tag_in(tag: str, values: Iterable[str]) -> str:
    """`("site" = 'a' OR "site" = 'b')`; an empty set matches nothing."""
    parts = [tag_equals(tag, v) for v in values]
    if not parts:
        return "false"
    return "(" + " OR ".join(parts) + ")"


def enum_equals(tag: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{tag} {value!r} is not one of {allowed}")
    return f"{quote_ident(tag)} = {quote_literal(value)}"


def time_between(start_ms: int, end_ms: int) -> str:
    return f"time >= {int(start_ms)}ms AND time < {int(end_ms)}ms"


def since(seconds: int) -> str:
    return f"time > now() - {int(seconds)}s"


def aggregate(func: str, quantity: str, alias: str) -> str:
    if func not in AGGREGATES:
        raise ValueError(f"unknown aggregate {func!r}")
    return f"{func}({field(quantity)}) AS {quote_ident(alias)}"
