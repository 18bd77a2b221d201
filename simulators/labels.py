"""Labelled series for scoring detectors offline: every value a farm sends, with its fault (if any).

    from simulators.farm import Farm
    from simulators.labels import labelled_values
    farm = Farm(start_ms=…, duration_s=7 * 86400, sites=7, seed=1, faults="spike,stuck,drift", fault_rate=0.01)
    for v in labelled_values(farm):
        v.site, v.node, v.quantity, v.ts, v.value, v.fault   # fault: "spike", …, or None when clean

One row per (reading set, quantity) in the order the node measured them, using the true timestamps
(a clock_skew fault is labelled, not moved), each reading set once (a duplicate is not repeated).
A reading lost in a dropout or a refused message (malformed_json, wrong_node) has no row. The farm is
consumed; its truth is complete when this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.wire import WireError, parse_json
from simulators.farm import Farm


@dataclass(frozen=True, slots=True)
class LabelledValue:
    site: str
    node: str
    quantity: str
    ts: int
    value: float
    fault: str | None
    seq: int


def labelled_values(farm: Farm) -> list[LabelledValue]:
    rows: list[tuple[str, str, str, int, float, int]] = []
    for _topic, payload, meta in farm.messages():
        if meta.repeat or meta.kind != "telemetry":
            continue
        try:
            doc = parse_json(payload)
        except WireError:
            continue
        if doc.get("node") != meta.node:
            continue  # wrong_node: ingest refuses the whole message
        for item, true_ts in zip(doc.get("batch", [doc]), meta.ts, strict=True):
            for q, v in item["m"].items():
                rows.append((meta.site, meta.node, q, true_ts, v, item["seq"]))
    # Range faults are known once they end, so label after the whole run.
    by_value: dict[tuple[str, str, int], str] = {}
    by_reading: dict[tuple[str, int], str] = {}
    for r in farm.truth:
        for seq in r.seqs:
            if r.quantity is not None:
                by_value[(r.node, r.quantity, seq)] = r.kind
            elif r.kind in ("duplicate", "out_of_order", "clock_skew"):
                by_reading[(r.node, seq)] = r.kind
    out = []
    for site, node, q, ts, v, seq in sorted(rows, key=lambda r: (r[1], r[5], r[2])):
        fault = by_value.get((node, q, seq)) or by_reading.get((node, seq))
        out.append(LabelledValue(site, node, q, ts, v, fault, seq))
    return out
