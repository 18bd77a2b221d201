"""The words a farmer reads: Vietnamese by default, fixed ZNS-registrable templates, ≤ 400 chars."""

from __future__ import annotations

import re

import pytest

from notify import gsm7, templates
from notify.channels.sms import sms_text
from notify.message import Message
from notify.phones import PhoneError, to_84
from ruongso.vi_format import format_number

from .conftest import T0_MS, alert

URL = "https://rs.example.vn/a/" + "T" * 80


def render(event, lang="vi", site="Ao 2", **kw):  # type: ignore[no-untyped-def]
    name = templates.choose(event, lang, **kw)
    return templates.render(name, templates.params_for(event, lang, site, URL, T0_MS + 20 * 60_000))


def test_a_critical_oxygen_alert_reads_as_agronomy_section_12_says() -> None:
    text = render(alert())
    assert text.startswith("NGUY HIỂM Ao 2: Oxy hòa tan thấp 1,8 mg/L (ngưỡng < 2 mg/L) lúc 04:20 30/11.")
    assert "Khuyến cáo: bật quạt nước, sục khí, ngừng cho ăn." in text
    assert text.endswith(URL)


def test_a_warning_says_canh_bao_and_high_thresholds_point_up() -> None:
    text = render(alert(severity="warning", rule="water_temp.warn_high", quantity="water_temp", value=33.6,
                        threshold=33.0, unit="°C"))  # fmt: skip
    assert text.startswith("CẢNH BÁO Ao 2: Nhiệt độ nước cao 33,6 °C (ngưỡng > 33 °C)")


def test_a_resolved_alert_says_so() -> None:
    text = render(alert(state="resolved", ts=T0_MS + 3_600_000))
    assert text == "ĐÃ HẾT CẢNH BÁO Ao 2: Oxy hòa tan thấp (từ 04:20 30/11) đã trở lại bình thường lúc 05:20 30/11."
    assert render(alert(state="resolved"), "en").startswith("RESOLVED Ao 2: Dissolved oxygen low")


def test_english_is_there_for_those_who_ask() -> None:
    text = render(alert(), "en")
    assert text.startswith("CRITICAL Ao 2: Dissolved oxygen low 1.8 mg/L (threshold < 2 mg/L) at 04:20 30/11.")
    assert "turn on the aerators" in text


def test_node_and_named_rules_have_words_too() -> None:
    offline = render(alert(kind="node", rule="node.offline", quantity=None, value=None, threshold=None, unit=None))
    assert "Mất kết nối thiết bị hk-pond-n02" in offline
    forecast = render(alert(rule="pond_do_forecast_crit", kind="forecast"))
    assert "Dự báo oxy hòa tan rạng sáng < 2 mg/L" in forecast and "bật quạt nước ngay" in forecast


def test_escalation_names_the_wait() -> None:
    text = render(alert(), escalated=True)
    assert text.startswith("CHƯA XỬ LÝ Ao 2: NGUY HIỂM Oxy hòa tan thấp từ 04:20 30/11, chưa ai xác nhận sau 20 phút.")


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [(1.8, "1,8", "1.8"), (1500, "1.500", "1,500"), (27.0, "27", "27"), (12.34, "12,3", "12.3"),
     (-0.5, "-0,5", "-0.5"), (-0.001, "0", "0")],
)  # fmt: skip
def test_numbers_use_the_vietnamese_decimal_comma(value: float, vi: str, en: str) -> None:
    assert format_number(value, "vi") == vi
    assert format_number(value, "en") == en


@pytest.mark.parametrize("name", sorted(templates.TEMPLATES))
def test_every_template_fits_zns_with_the_longest_values(name: str) -> None:
    t = templates.TEMPLATES[name]
    longest = {p: "W" * templates.PARAM_MAX[p] for p in t.params}
    assert len(templates.render(name, longest)) <= templates.ZNS_MAX_CHARS
    assert set(re.findall(r"<([a-z_]+)>", t.text)) <= set(templates.PARAM_MAX)
    # Over-long values are cut to their cap, never past it.
    p = templates.params_for(alert(), t.lang, "S" * 300, "https://x/a/" + "t" * 500)
    assert all(len(v) <= templates.PARAM_MAX[k] for k, v in p.items())


def test_oxy_hoa_tan_thap_becomes_one_gsm7_segment() -> None:
    assert gsm7.to_gsm7("Oxy hòa tan thấp") == "Oxy hoa tan thap"
    text = render(alert())
    msg = Message(key="k", alert_id="a", site="s", severity="critical", state="firing-critical", recipient="r",
                  channel="sms", address="0912345678", lang="vi", template="alert_value_vi", text=text,
                  ack_url=URL)  # fmt: skip
    sms = sms_text(msg, ascii_only=True)
    assert gsm7.is_gsm7(sms) and gsm7.septets(sms) <= 160
    assert sms.startswith("NGUY HIEM Ao 2: Oxy hoa tan thap 1,8 mg/L")
    assert "bat quat nuoc" in sms


def test_gsm7_counts_extension_characters_twice_and_cuts_visibly() -> None:
    assert gsm7.septets("a{b}") == 6
    cut = gsm7.fit("x" * 200)
    assert len(cut) == 160 and cut.endswith("...")


@pytest.mark.parametrize("raw", ["0912 345 678", "+84912345678", "84912345678", "091.234.5678"])
def test_phones_go_to_84_form(raw: str) -> None:
    assert to_84(raw) == "84912345678"


@pytest.mark.parametrize("bad", ["12345", "0012345678", "+1 415 555 0100", ""])
def test_non_vietnamese_numbers_are_refused(bad: str) -> None:
    with pytest.raises(PhoneError):
        to_84(bad)
