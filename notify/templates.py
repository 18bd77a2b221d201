"""Fixed message templates with named parameters, Vietnamese first, English optional.

The texts are fixed so each can be registered once as a Zalo ZNS template (ZNS templates hold at
most 400 characters, parameters written `<name>`); every channel sends the same words. Parameter
values are capped so a rendered message never exceeds 400 characters (tests/notify check the worst
case). Numbers use the Vietnamese decimal comma and `.` thousands separator; times are local
(Asia/Ho_Chi_Minh, ICT, UTC+7, no DST: docs/agronomy.md §0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from contract.alerts import AlertEvent
from notify.vocabulary import direction, wording
from ruongso.vi_format import format_number

LOCAL_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
ZNS_MAX_CHARS: Final = 400
LANGS: Final = ("vi", "en")

# Parameter → longest value allowed (characters); longer values are cut with "…".
PARAM_MAX: Final[dict[str, int]] = {
    "level": 16,
    "site_name": 32,
    "condition": 60,
    "value": 16,
    "threshold": 18,
    "time": 11,
    "started": 11,
    "waited": 5,
    "action": 64,
    "ack_url": 120,  # never cut (a cut link is useless): a longer one is replaced, see params_for
}


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    lang: str
    text: str

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(re.findall(r"<([a-z_]+)>", self.text)))


def _t(name: str, lang: str, text: str) -> Template:
    return Template(f"{name}_{lang}", lang, text)


TEMPLATES: Final[dict[str, Template]] = {
    t.name: t
    for t in (
        _t(
            "alert_value",
            "vi",
            "<level> <site_name>: <condition> <value> (ngưỡng <threshold>) lúc <time>. "
            "Khuyến cáo: <action>. Xác nhận đã xử lý: <ack_url>",
        ),
        _t(
            "alert_value",
            "en",
            "<level> <site_name>: <condition> <value> (threshold <threshold>) at <time>. "
            "Action: <action>. Tap to acknowledge: <ack_url>",
        ),
        _t(
            "alert_event",
            "vi",
            "<level> <site_name>: <condition> lúc <time>. Khuyến cáo: <action>. "
            "Xác nhận đã xử lý: <ack_url>",
        ),
        _t(
            "alert_event",
            "en",
            "<level> <site_name>: <condition> at <time>. Action: <action>. Tap to acknowledge: <ack_url>",
        ),
        _t(
            "alert_resolved",
            "vi",
            "ĐÃ HẾT CẢNH BÁO <site_name>: <condition> (từ <started>) đã trở lại bình thường lúc <time>.",
        ),
        _t(
            "alert_resolved",
            "en",
            "RESOLVED <site_name>: <condition> (since <started>) back to normal at <time>.",
        ),
        _t(
            "alert_escalated",
            "vi",
            "CHƯA XỬ LÝ <site_name>: <level> <condition> từ <started>, chưa ai xác nhận sau <waited> phút. "
            "Khuyến cáo: <action>. Xác nhận: <ack_url>",
        ),
        _t(
            "alert_escalated",
            "en",
            "NOT HANDLED <site_name>: <level> <condition> since <started>, unacknowledged after <waited> min. "
            "Action: <action>. Acknowledge: <ack_url>",
        ),
    )
}

LEVEL: Final = {("vi", "warning"): "CẢNH BÁO", ("vi", "critical"): "NGUY HIỂM",
                ("en", "warning"): "WARNING", ("en", "critical"): "CRITICAL"}  # fmt: skip


class TemplateError(ValueError):
    pass


def local_time(ts_ms: int) -> str:
    """`HH:MM dd/mm` in Vietnam's local time."""
    return datetime.fromtimestamp(ts_ms / 1000, LOCAL_TZ).strftime("%H:%M %d/%m")


def _with_unit(number: str, unit: str | None) -> str:
    # SI and Vietnamese usage both put a space before the unit: "1,8 mg/L", "27 °C", "81 %RH".
    return f"{number} {unit}" if unit else number


def _cap(name: str, value: str) -> str:
    limit = PARAM_MAX.get(name, 60)
    value = " ".join(value.split())
    if name == "ack_url" and len(value) > limit:
        # Only with very long ids: point to the app's front page (acknowledge after logging in).
        return value[: value.rfind("/a/")][:limit] if "/a/" in value else value[:limit]
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def render(template_name: str, params: dict[str, str]) -> str:
    try:
        template = TEMPLATES[template_name]
    except KeyError:
        raise TemplateError(f"no template {template_name!r}") from None
    missing = [p for p in template.params if p not in params]
    if missing:
        raise TemplateError(f"template {template_name} needs {', '.join(missing)}")
    return re.sub(r"<([a-z_]+)>", lambda m: params[m.group(1)], template.text)


def choose(event: AlertEvent, lang: str, escalated: bool = False) -> str:
    if escalated:
        base = "alert_escalated"
    elif event.state == "resolved":
        base = "alert_resolved"
    elif event.value is not None and event.threshold is not None:
        base = "alert_value"
    else:
        base = "alert_event"
    return f"{base}_{lang if lang in LANGS else 'vi'}"


def params_for(
    event: AlertEvent, lang: str, site_name: str, ack_url: str, now_ms: int | None = None,
    waiting_since_ms: int | None = None,
) -> dict[str, str]:
    """Every parameter any template may use, capped to its ZNS length. `waited` counts minutes from
    `waiting_since_ms` (when people were first told), else from the alert's start."""
    lang = lang if lang in LANGS else "vi"
    words = wording(event, lang)
    value = threshold = "-"
    if event.value is not None:
        value = _with_unit(format_number(event.value, lang), event.unit)
    if event.threshold is not None:
        op = {"low": "< ", "high": "> "}.get(direction(event) or "", "")
        threshold = op + _with_unit(format_number(event.threshold, lang), event.unit)
    since = event.started if waiting_since_ms is None else waiting_since_ms
    waited_min = max(0, ((now_ms or event.ts) - since) // 60_000)
    raw = {
        "level": LEVEL[(lang, event.severity)],
        "site_name": site_name or event.site,
        "condition": words.condition,
        "value": value,
        "threshold": threshold,
        "time": local_time(event.ts),
        "started": local_time(event.started),
        "waited": str(waited_min),
        "action": words.action,
        "ack_url": ack_url,
    }
    return {k: _cap(k, v) for k, v in raw.items()}


def subject_for(params: dict[str, str]) -> str:
    return f"{params['level']} {params['site_name']}: {params['condition']}"
