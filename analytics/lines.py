"""InfluxDB line protocol of the measurements analytics writes (docs/influx-schema.md): `alert`, `derived`."""

from __future__ import annotations

import math

from contract.alerts import AlertEvent


def _tag(v: str) -> str:
    return v.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _str(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alert_line(e: AlertEvent) -> str:
    tags = (
        f"alert,site={_tag(e.site)},node={_tag(e.node or '-')},rule={_tag(e.rule)},kind={e.kind},"
        f"audience={e.audience},severity={e.severity},state={e.state}"
    )
    fields = [f"id={_str(e.id)}"]
    if e.quantity:
        fields.append(f"quantity={_str(e.quantity)}")
    if e.unit is not None:
        fields.append(f"unit={_str(e.unit)}")
    fields.append(f"text_vi={_str(e.text.get('vi', ''))}")
    fields.append(f"text_en={_str(e.text.get('en', ''))}")
    if e.value is not None and math.isfinite(e.value):
        fields.append(f"value={float(e.value)!r}")
    if e.threshold is not None and math.isfinite(e.threshold):
        fields.append(f"threshold={float(e.threshold)!r}")
    fields.append(f"started={e.started}i")
    return f"{tags} {','.join(fields)} {e.ts}"


def derived_line(site: str, node: str, fields: dict[str, float], ts: int) -> str | None:
    body = ",".join(f"{k}={round(v, 4)!r}" for k, v in fields.items() if math.isfinite(v))
    return f"derived,site={site},node={node} {body} {ts}" if body else None
