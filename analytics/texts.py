"""Alert texts from fixed templates, Vietnamese first (terms of docs/agronomy.md §12, decimal comma)
and English. Pattern (§12): `[CẢNH BÁO|NGUY HIỂM] <site>: <condition> — <value><unit> (<threshold>)
từ <HH:MM>. <advice>`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from contract.quantities import QUANTITIES
from ruongso.vi_format import format_number

ICT: Final = timedelta(hours=7)
LEVEL: Final = {"warning": ("CẢNH BÁO", "WARNING"), "critical": ("NGUY HIỂM", "CRITICAL")}
STATE_PREFIX: Final = {
    "firing": ("", ""),
    "resolved": ("ĐÃ HẾT — ", "RESOLVED — "),
    "acknowledged": ("ĐÃ XÁC NHẬN — ", "ACKNOWLEDGED — "),
    "silenced": ("TẠM TẮT — ", "SILENCED — "),
}
FAULTS: Final = {
    "stuck": ("Cảm biến có thể bị treo: {label} không đổi", "Sensor may be stuck: {label} not changing"),
    "implausible": ("Cảm biến lỗi: {label} ngoài ngưỡng vật lý", "Sensor fault: {label} outside its physical range"),
    "spike": ("Cảm biến đo bất thường: {label} nhảy đột biến", "Sensor glitch: {label} spikes"),
    "drift": (
        "Cảm biến bị trôi: {label} lệch so với các nút cùng khu",
        "Sensor drift: {label} departs from its neighbours",
    ),
}
# A farmer alert on a reading whose probe is judged to drift (analytics/engine.py DRIFT_SPARES).
PROBE_SUSPECT: Final = (
    " Cảm biến có thể bị trôi (đã báo kỹ thuật viên): hãy kiểm tra tại chỗ.",
    " The probe may be drifting (the technician is told): check on the spot.",
)
NODE: Final = {
    "offline": ("Mất kết nối: nút {node} không gửi dữ liệu", "Node {node} offline: no data"),
    "link_loss": ("Mất gói tin: nút {node} mất {value} % bản tin", "Link loss: node {node} lost {value} % of messages"),
}


def hhmm(ts_ms: int) -> str:
    return (datetime.fromtimestamp(ts_ms / 1000, UTC) + ICT).strftime("%H:%M")


def _unit(u: str | None, lang: str) -> str:
    if not u:
        return ""
    return u if u.startswith("°") or u == "%" else " " + u


def render(state: str, severity: str, site: str, node: str, meta: dict[str, Any], started: int) -> dict[str, str]:
    """{'vi': …, 'en': …} for one event."""
    level_vi, level_en = LEVEL.get(severity, LEVEL["warning"])
    pre_vi, pre_en = STATE_PREFIX.get(state, ("", ""))
    q = meta.get("quantity")
    quantity = QUANTITIES.get(q) if q else None
    value, threshold, op = meta.get("value"), meta.get("threshold"), meta.get("op")
    fault, node_kind = meta.get("fault"), meta.get("node_kind")
    label_vi = quantity.label_vi if quantity else ""
    label_en = quantity.label_en if quantity else ""
    unit = quantity.unit if quantity else meta.get("unit")

    def measured(lang: str) -> str:
        if value is None:
            return ""
        s = f" {format_number(value, lang)}{_unit(unit, lang)}"
        if threshold is not None and op:
            s += f" ({op} {format_number(threshold, lang)})"
        return s

    if fault in FAULTS:
        vi = FAULTS[fault][0].format(label=label_vi) + measured("vi")
        en = FAULTS[fault][1].format(label=label_en) + measured("en")
    elif node_kind in NODE:
        v = format_number(value, "vi") if value is not None else ""
        ve = format_number(value, "en") if value is not None else ""
        vi = NODE[node_kind][0].format(node=node, value=v)
        en = NODE[node_kind][1].format(node=node, value=ve)
    elif quantity is not None and meta.get("threshold_rule"):
        low = op == "<"
        vi = f"{label_vi} {'thấp' if low else 'cao'}{measured('vi')}"
        en = f"{label_en} {'low' if low else 'high'}{measured('en')}"
    else:
        vi = f"{meta.get('vi_hint') or meta.get('rule', '')}{measured('vi')}"
        en = f"{meta.get('en_hint') or meta.get('rule', '')}{measured('en')}"
    when_vi, when_en = f" từ {hhmm(started)}", f" since {hhmm(started)} ICT"
    expected = meta.get("ts_expected")
    if expected:
        when_vi += f", dự kiến lúc {hhmm(expected)}"
        when_en += f", expected at {hhmm(expected)} ICT"
    advice = f" {meta['vi_hint']}." if meta.get("threshold_rule") and meta.get("vi_hint") else ""
    suspect_vi = suspect_en = ""
    if meta.get("probe_suspect") and state == "firing":
        suspect_vi, suspect_en = PROBE_SUSPECT
    return {
        "vi": f"{pre_vi}{level_vi} {site}: {vi}{when_vi}.{advice}{suspect_vi}",
        "en": f"{pre_en}{level_en} {site}: {en}{when_en}.{suspect_en}",
    }
