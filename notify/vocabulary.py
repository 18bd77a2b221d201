"""What an alert is about and what to do, in the farmer's words (docs/agronomy.md §12).

Conditions are derived from the quantity registry (`label_vi` + "thấp"/"cao"), so a new quantity
needs no entry here. Actions come from the table below (terms of agronomy.md §12; those marked
UNSOURCED there are common usage to check with local extension officers). Named rules of a profile
(e.g. `pond_do_forecast_crit`) carry their own Vietnamese "condition: action" text in profiles.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from contract.alerts import AlertEvent
from contract.quantities import QUANTITIES
from ruongso import profiles

# (quantity, direction) → (action vi, action en)
ACTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("dissolved_oxygen", "low"): ("bật quạt nước, sục khí, ngừng cho ăn", "turn on the aerators, stop feeding"),
    ("water_temp", "low"): ("giảm cho ăn, giữ mực nước sâu", "reduce feeding, keep the water deep"),
    ("water_temp", "high"): (
        "bật quạt nước, thêm nước mới, giảm cho ăn",
        "run the aerators, add fresh water, reduce feeding",
    ),
    ("water_ph", "low"): ("kiểm tra pH, bón vôi cho ao", "check pH, lime the pond"),
    ("water_ph", "high"): ("thay bớt nước, ngừng bón phân", "exchange some water, stop fertilising"),
    ("water_level", "low"): ("bơm thêm nước", "pump in water"),
    ("water_level", "high"): ("tháo bớt nước", "drain some water"),
    ("soil_moisture", "low"): ("cần tưới", "irrigate"),
    ("soil_ec", "high"): ("tưới rửa mặn, kiểm tra nguồn nước", "leach with fresh water, check the water source"),
    ("soil_ph", "low"): ("bón vôi cải tạo đất chua", "lime the acid soil"),
    ("air_temp", "low"): (
        "che phủ nilon cho mạ, giữ nước 2–3 cm, không bón đạm",
        "cover seedlings with plastic, keep 2–3 cm of water, no nitrogen",
    ),
    ("air_temp", "high"): ("che nắng, tưới mát, tăng thông gió", "shade, cool with water, ventilate"),
    ("air_humidity", "high"): ("tăng thông gió", "ventilate"),
    ("nh3", "high"): ("tăng thông gió, dọn chất thải chuồng", "ventilate, clean out manure"),
    ("co2", "high"): ("tăng thông gió", "ventilate"),
    ("rain", "high"): ("khơi thông rãnh thoát nước, theo dõi oxy trong ao", "clear drains, watch pond oxygen"),
    ("wind_speed", "high"): ("chằng chống nhà lưới, chuồng trại", "secure net houses and barns"),
}
DEFAULT_ACTION = ("kiểm tra tại chỗ", "check on site")
NODE_ACTION = ("kiểm tra nguồn điện và sóng của thiết bị", "check the device's power and signal")
SENSOR_ACTION = ("kiểm tra, vệ sinh cảm biến", "check and clean the sensor")


@dataclass(frozen=True, slots=True)
class Wording:
    condition: str
    action: str


def direction(event: AlertEvent) -> str | None:
    """'low' or 'high' from the rule name (`dissolved_oxygen.crit_low`), else from value vs threshold."""
    tail = event.rule.rsplit(".", 1)[-1]
    if tail.endswith("_low") or tail == "low":
        return "low"
    if tail.endswith("_high") or tail == "high":
        return "high"
    if event.value is not None and event.threshold is not None:
        return "low" if event.value < event.threshold else "high"
    return None


@cache
def _named_rules() -> dict[str, str]:
    out: dict[str, str] = {}
    for p in profiles.load()["profiles"]:
        for r in p.get("rules") or []:
            if r.get("vi"):
                out[r["id"]] = r["vi"]
    return out


def wording(event: AlertEvent, lang: str) -> Wording:
    en = lang == "en"
    i = 1 if en else 0
    node = event.node or ""
    if event.kind == "node":
        what = event.rule.rsplit(".", 1)[-1]
        if "offline" in what or "link" in what:
            cond = f"Lost contact with device {node}" if en else f"Mất kết nối thiết bị {node}"
        elif "battery" in what:
            cond = f"Low battery on device {node}" if en else f"Pin yếu thiết bị {node}"
        else:
            cond = f"Device {node} needs attention" if en else f"Thiết bị {node} gặp sự cố"
        return Wording(cond.strip(), NODE_ACTION[i])
    q = QUANTITIES.get(event.quantity or "")
    if event.kind == "sensor":
        label = (q.label_en if en else q.label_vi) if q else (event.quantity or "")
        cond = f"{label} sensor may be faulty ({node})" if en else f"Cảm biến {label.lower()} có thể lỗi ({node})"
        return Wording(cond, SENSOR_ACTION[i])
    named = _named_rules().get(event.rule)
    if named and not en:
        cond, _, action = named.partition(":")
        return Wording(cond.strip(), action.strip() or DEFAULT_ACTION[0])
    d = direction(event)
    if q is not None and d is not None:
        label = q.label_en if en else q.label_vi
        cond = f"{label} {d}" if en else f"{label} {'thấp' if d == 'low' else 'cao'}"
        if event.kind == "forecast":
            cond = f"Forecast: {cond.lower()}" if en else f"Dự báo {cond[0].lower()}{cond[1:]}"
        return Wording(cond, ACTIONS.get((q.name, d), DEFAULT_ACTION)[i])
    # A rule we have no words for: the analytics text, else the rule id, is better than nothing.
    cond = event.text.get(lang) or event.text.get("vi") or event.rule
    return Wording(cond, DEFAULT_ACTION[i])
