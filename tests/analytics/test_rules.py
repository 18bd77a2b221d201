"""Agronomic rules from profiles.yaml: thresholds on their aggregate held for their duration, strict,
with hysteresis, inhibition of warnings by criticals, named rule expressions, per-site overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import rules
from analytics.engine import Engine
from analytics.expr import ExprError, compile_expr
from analytics.sites import SiteDirectory, SitesError
from tests.analytics.helpers import HOUR, MIDNIGHT_ICT, MINUTE, Feeder

DAYTIME = MIDNIGHT_ICT + 9 * HOUR  # no DO forecast in daytime


def _vary(m: dict[str, float], n: int) -> list[dict[str, float]]:
    """n readings of m, each value moving by a hundredth so no probe looks stuck."""
    return [{q: v + 0.01 * (i % 3) for q, v in m.items()} for i in range(n)]


def _pond(values: list[float], start: int = DAYTIME, engine: Engine | None = None) -> Feeder:
    f = Feeder(engine or Engine(), "t-pond-1")
    f.series("n1", start, MINUTE, ({"dissolved_oxygen": v + 0.01 * (i % 3)} for i, v in enumerate(values)))
    return f


def test_low_oxygen_fires_only_after_holding_its_duration() -> None:
    f = _pond([6.0] * 30 + [2.5] * 12)  # below 3 for 12 min: mean_10min below 3 for only ~2 min
    assert f.events == []
    f = _pond([6.0] * 30 + [2.5] * 40)
    fired = f.of("dissolved_oxygen.warn_low", "firing")
    assert len(fired) == 1
    e = fired[0]
    assert (e.severity, e.audience, e.kind, e.threshold, e.unit) == ("warning", "farmer", "agronomic", 3.0, "mg/L")
    assert e.ts - e.started >= 600_000
    assert e.text["vi"].startswith("CẢNH BÁO t-pond-1: Oxy hòa tan thấp 2,5")
    assert "mg/L (< 3) từ 09:" in e.text["vi"] and "bật quạt nước" in e.text["vi"]
    assert e.text["en"].startswith("WARNING t-pond-1: Dissolved oxygen low 2.5")


def test_comparison_is_strict() -> None:
    f = _pond([3.0] * 60)
    assert f.events == []


def test_a_value_hovering_at_the_threshold_does_not_flap() -> None:
    hover = [2.9 if i % 2 else 3.05 for i in range(240)]  # mean_10min ≈ 2.97, sways a little either side
    f = _pond([6.0] * 20 + [2.5] * 30 + hover)
    assert len({e.id for e in f.of("dissolved_oxygen.warn_low", "firing")}) == 1
    assert f.of("dissolved_oxygen.warn_low", "resolved") == []
    f.series("n1", f.events[-1].ts + 300 * MINUTE, MINUTE, _vary({"dissolved_oxygen": 3.5}, 15))
    assert len(f.of("dissolved_oxygen.warn_low", "resolved")) == 1


def test_critical_inhibits_the_warning_on_the_same_side() -> None:
    f = _pond([6.0] * 30 + [1.5] * 40 + [6.5] * 40)
    assert [(e.rule, e.state) for e in f.events if e.rule.startswith("dissolved_oxygen.")] == [
        ("dissolved_oxygen.crit_low", "firing"),
        ("dissolved_oxygen.crit_low", "resolved"),
    ]


def test_thi_rule_for_pig_barns() -> None:
    f = Feeder(Engine(), "t-pig-1")
    f.series("n1", DAYTIME, MINUTE, _vary({"air_temp": 29.0, "air_humidity": 75.0}, 40))  # THI ≈ 80.5
    thi = [e for e in f.events if e.rule.startswith("pig_thi")]
    assert [e.rule for e in thi] == ["pig_thi_danger"]  # the warning is inhibited by the critical rule
    assert thi[0].value == pytest.approx(80.5, abs=0.1)
    assert "THI >= 79" in thi[0].text["vi"]


def test_vpd_low_in_a_net_house_needs_three_hours() -> None:
    f = Feeder(Engine(), "t-net-1")
    f.series("n1", DAYTIME, 5 * MINUTE, _vary({"air_temp": 22.0, "air_humidity": 99.5}, 30))
    assert f.of("nh_vpd_low", "firing") == []
    f.series("n1", DAYTIME + 150 * MINUTE, 5 * MINUTE, _vary({"air_temp": 22.0, "air_humidity": 99.5}, 12))
    assert len(f.of("nh_vpd_low", "firing")) == 1


def test_heat_index_danger_is_a_common_weather_rule() -> None:
    f = Feeder(Engine(), "t-rice-1")
    f.send("n1", DAYTIME, {"air_temp": 35.0, "air_humidity": 70.0})  # HI ≈ 50 °C
    assert [e.rule for e in f.events] == ["heat_index_danger"]


def test_daily_mean_cold_spell_is_judged_at_day_close() -> None:
    f = Feeder(Engine(), "t-rice-1")
    end = f.series("n1", MIDNIGHT_ICT, 10 * MINUTE, _vary({"air_temp": 12.0, "air_humidity": 85.0}, 144))
    assert f.of("air_temp.crit_low") == []  # the day is not over
    f.send("n1", end, {"air_temp": 12.5, "air_humidity": 85.0})
    f.send("n1", end + 10 * MINUTE, {"air_temp": 12.6, "air_humidity": 85.0})
    assert [e.rule for e in f.events if e.state == "firing"] == ["air_temp.crit_low"]
    assert f.events[0].value == pytest.approx(12.01, abs=0.01)


def test_per_site_overrides_from_the_sites_file(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  ao-nha-ong-ba:\n    profile: fish_pond\n    overrides:\n"
                    "      dissolved_oxygen: {warn_low: 4.0}\n")
    f = Feeder(Engine(SiteDirectory(str(path))), "ao-nha-ong-ba")
    f.series("n1", DAYTIME, MINUTE, _vary({"dissolved_oxygen": 3.5}, 30))
    fired = f.of("dissolved_oxygen.warn_low", "firing")
    assert len(fired) == 1 and fired[0].threshold == 4.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sites:\n  s1: {profile: banana}\n", "unknown profile 'banana'"),
        ("sites:\n  s1: {profile: fish_pond, overrides: {dissolved_oxygen: {warn_lo: 3}}}\n", "warn_lo"),
        ("sites: [1, 2]\n", "expected a mapping"),
        ("sites: {s1: {profile: fish_pond, lat: north}}\n", "lat/lon must be numbers"),
    ],
)
def test_bad_sites_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text(text)
    with pytest.raises(SitesError, match=message):
        SiteDirectory(str(path))


def test_site_without_a_profile_gets_no_agronomic_rules() -> None:
    f = Feeder(Engine(), "t-unknown-1")
    f.series("n1", DAYTIME, MINUTE, _vary({"dissolved_oxygen": 1.0}, 30))
    assert f.farmer() == []


def test_every_profile_rule_is_evaluated_and_an_unknown_form_is_listed_not_dropped() -> None:
    from ruongso.profiles import profile_ids

    assert {p: rules.build(p).unsupported for p in profile_ids()} == {p: [] for p in profile_ids()}
    specs = [{"id": "x_future", "severity": "warning", "expr": "count_days(air_temp > 3, 2) >= 1"}]
    _named, unsupported = rules._named_rules(specs)
    assert [i for i, _ in unsupported] == ["x_future"] and "count_days() supports only" in unsupported[0][1]


@pytest.mark.parametrize("source", ["__import__('os').system('true')", "air_temp.real > 1", "open('x')",
                                    "[x for x in (1,)]", "lambda: 1", "air_temp[0] > 1"])
def test_expressions_outside_the_grammar_are_refused(source: str) -> None:
    with pytest.raises(ExprError):
        compile_expr(source)


def test_profile_and_overrides_come_from_the_fleet_registry(tmp_path: Path) -> None:
    from analytics.sites import registry_lookup
    from registry.db import open_registry
    from registry.overrides import set_override
    from registry.sites import add_site

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    conn = open_registry(url)
    add_site(conn, "ao-ba-tam", "Ao bà Tâm", "fish_pond", lat=20.9, lon=106.3)
    set_override(conn, "ao-ba-tam", "dissolved_oxygen", warn_low=4.0, crit_low=2.5)
    directory = SiteDirectory(registry=registry_lookup(url))
    cfg = directory.get("ao-ba-tam")
    assert (cfg.profile, cfg.lat) == ("fish_pond", 20.9)
    f = Feeder(Engine(directory), "ao-ba-tam")
    f.series("n1", DAYTIME, MINUTE, _vary({"dissolved_oxygen": 2.4}, 30))
    fired = f.of("dissolved_oxygen.crit_low", "firing")
    assert len(fired) == 1 and fired[0].threshold == 2.5
    assert directory.get("not-registered").profile is None


def test_a_missing_registry_is_a_clear_error(tmp_path: Path) -> None:
    from analytics.sites import registry_lookup

    with pytest.raises(SitesError, match="does not exist"):
        registry_lookup(f"sqlite:///{tmp_path / 'none.db'}")


def test_pond_ammonia_rules_use_the_tan_test_entered_for_the_site(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  ao-ca-1:\n    profile: fish_pond\n    tan_mg_l: 2.0\n")
    f = Feeder(Engine(SiteDirectory(str(path))), "ao-ca-1")
    f.series("n1", DAYTIME, MINUTE, _vary({"water_ph": 8.5, "water_temp": 28.0, "dissolved_oxygen": 6.0}, 40))
    fired = [e for e in f.events if e.state == "firing" and e.rule.startswith("pond_uia")]
    assert [e.rule for e in fired] == ["pond_uia_warn"]  # UIA ≈ 0.34 mg/L: above 0.05, below 1
    assert fired[0].value == pytest.approx(0.34, abs=0.03)
    f = Feeder(Engine(), "t-pond-9")  # no TAN test entered: the rule cannot be judged
    f.series("n1", DAYTIME, MINUTE, _vary({"water_ph": 8.5, "water_temp": 28.0}, 40))
    assert [e for e in f.events if e.rule.startswith("pond_uia")] == []


def test_poultry_barn_hotter_than_outside_needs_the_outdoor_reference_node(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  trai-ga-1:\n    profile: poultry_barn\n    outdoor_node: ngoai-troi\n")
    f = Feeder(Engine(SiteDirectory(str(path))), "trai-ga-1")
    ts = DAYTIME
    for i in range(45):
        f.send("ngoai-troi", ts, {"air_temp": 31.0 + 0.01 * (i % 3), "air_humidity": 60.0 + 0.1 * (i % 2)})
        f.send("chuong-1", ts + 1000, {"air_temp": 34.5 + 0.01 * (i % 3), "air_humidity": 70.0 + 0.1 * (i % 2)})
        ts += MINUTE
    fired = [e for e in f.events if e.rule == "poultry_inside_outside" and e.state == "firing"]
    assert [e.node for e in fired] == ["chuong-1"]
    f = Feeder(Engine(), "t-poultry-1")  # no outdoor node named: the rule cannot be judged
    f.series("n1", DAYTIME, MINUTE, _vary({"air_temp": 34.5, "air_humidity": 70.0}, 45))
    assert [e for e in f.events if e.rule == "poultry_inside_outside"] == []


def test_a_warm_winter_fortnight_warns_the_lychee_grower() -> None:
    # December: 14 days with 20 °C exceeded for 10 h a day → flushing instead of flowering (MENZEL95).
    f = Feeder(Engine(), "t-lychee-1")
    ts = MIDNIGHT_ICT
    for i in range(24 * 15):
        hour = i % 24
        t = 23.0 if 8 <= hour < 18 else 16.0
        f.send("n1", ts, {"air_temp": t + 0.01 * (i % 3), "air_humidity": 75.0 + 0.1 * (i % 2)})
        ts += HOUR
    fired = f.of("lychee_warm_winter", "firing")
    assert len({e.id for e in fired}) == 1 and len(fired) <= 9  # judged daily: announced once a day
    assert fired[0].quantity is None and fired[0].value == 7.0  # a count of days, not a temperature
    assert (fired[0].ts - MIDNIGHT_ICT) // 86_400_000 == 7  # the first day with 7 warm days behind it
