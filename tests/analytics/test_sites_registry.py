"""Stage, TAN test and outdoor node kept in the fleet registry (a real SQLite file) reach the engine as a sites
file would give them: stage-dependent rules, the ammonia rules (a stale test is ignored) and `outside(q)`."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import analytics.sites
from analytics.engine import Engine
from analytics.sites import REFRESH_S, SiteDirectory, registry_lookup
from registry import credentials, nodes
from registry.db import Connection, now_ms, open_registry
from registry.sites import TAN_MAX_AGE_MS, add_site, set_conditions
from tests.analytics.helpers import HOUR, MIDNIGHT_ICT, MINUTE, Feeder

DAYTIME = MIDNIGHT_ICT + 9 * HOUR


def _vary(m: dict[str, float], n: int) -> list[dict[str, float]]:
    """n readings of m, each value moving by a hundredth so no probe looks stuck."""
    return [{q: v + 0.01 * (i % 3) for q, v in m.items()} for i in range(n)]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


@pytest.fixture
def conn(url: str) -> Connection:
    c = open_registry(url)
    add_site(c, "ruong-ba", "Ruộng ông Ba", "rice_paddy", lat=20.8, lon=106.4)
    add_site(c, "ao-tu", "Ao bà Tư", "fish_pond")
    add_site(c, "trai-ga", "Trại gà", "poultry_barn")
    for node in ("chuong-1", "ngoai-troi"):
        nodes.add_node(c, "trai-ga", node, credentials.hash_password("unused"), ["air_temp", "air_humidity"])
    return c


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The site directory's clock only (its refresh period), not the process's."""
    fake = FakeClock()
    monkeypatch.setattr(analytics.sites, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


def _windy(f: Feeder, start: int, n: int = 15) -> int:
    return f.series("n1", start, MINUTE, _vary({"wind_speed": 7.0, "air_temp": 27.0, "air_humidity": 80.0}, n))


def test_a_stage_set_only_in_the_registry_makes_the_flowering_wind_rule_fire(conn: Connection, url: str) -> None:
    unset = Feeder(Engine(SiteDirectory(registry=registry_lookup(url))), "ruong-ba")
    _windy(unset, DAYTIME)
    assert unset.of("rice_wind_flowering") == []  # no stage: the rule is false, never judged true

    set_conditions(conn, "ruong-ba", stage="flowering")
    flowering = Feeder(Engine(SiteDirectory(registry=registry_lookup(url))), "ruong-ba")
    _windy(flowering, DAYTIME)
    fired = flowering.of("rice_wind_flowering", "firing")
    assert len(fired) == 1 and fired[0].value == pytest.approx(7.0, abs=0.05)


def test_a_stage_change_reaches_a_running_engine_within_the_refresh_period(
    conn: Connection, url: str, clock: FakeClock
) -> None:
    f = Feeder(Engine(SiteDirectory(registry=registry_lookup(url))), "ruong-ba")
    ts = _windy(f, DAYTIME)
    set_conditions(conn, "ruong-ba", stage="flowering")

    clock.now += REFRESH_S / 2  # the engine still works from the site as it last read it
    ts = _windy(f, ts, 3)
    assert f.of("rice_wind_flowering") == []
    clock.now += REFRESH_S / 2
    _windy(f, ts, 3)
    assert len(f.of("rice_wind_flowering", "firing")) == 1

    set_conditions(conn, "ruong-ba", stage=None)  # and clearing it resolves the alert one period later
    clock.now += REFRESH_S
    _windy(f, ts + 3 * MINUTE, 3)
    assert len(f.of("rice_wind_flowering", "resolved")) == 1


def _pond(url: str) -> Feeder:
    f = Feeder(Engine(SiteDirectory(registry=registry_lookup(url))), "ao-tu")
    f.series("n1", DAYTIME, MINUTE, _vary({"water_ph": 8.5, "water_temp": 28.0, "dissolved_oxygen": 6.0}, 40))
    return f


def test_a_fresh_tan_test_is_judged_and_a_stale_one_is_ignored(conn: Connection, url: str) -> None:
    set_conditions(conn, "ao-tu", tan_mg_l=2.0, tan_measured_ms=now_ms() - TAN_MAX_AGE_MS + HOUR)
    fresh = _pond(url)
    fired = [e for e in fresh.events if e.state == "firing" and e.rule.startswith("pond_uia")]
    assert [e.rule for e in fired] == ["pond_uia_warn"]  # UIA ≈ 0.34 mg/L at pH 8.5, 28 °C

    set_conditions(conn, "ao-tu", tan_mg_l=2.0, tan_measured_ms=now_ms() - TAN_MAX_AGE_MS - HOUR)
    assert "tan_mg_l" not in (registry_lookup(url)("ao-tu") or {})
    stale = _pond(url)
    assert [e for e in stale.events if e.rule.startswith("pond_uia")] == []


def test_the_outdoor_node_from_the_registry_feeds_outside(conn: Connection, url: str) -> None:
    set_conditions(conn, "trai-ga", outdoor_node="ngoai-troi")
    f = Feeder(Engine(SiteDirectory(registry=registry_lookup(url))), "trai-ga")
    ts = DAYTIME
    for i in range(45):
        f.send("ngoai-troi", ts, {"air_temp": 31.0 + 0.01 * (i % 3), "air_humidity": 60.0 + 0.1 * (i % 2)})
        f.send("chuong-1", ts + 1000, {"air_temp": 34.5 + 0.01 * (i % 3), "air_humidity": 70.0 + 0.1 * (i % 2)})
        ts += MINUTE
    assert [e.node for e in f.of("poultry_inside_outside", "firing")] == ["chuong-1"]


def test_the_registry_gives_the_same_site_as_a_sites_file_would(conn: Connection, url: str, tmp_path: Path) -> None:
    set_conditions(conn, "ao-tu", tan_mg_l=0.8)
    set_conditions(conn, "trai-ga", outdoor_node="ngoai-troi")
    set_conditions(conn, "ruong-ba", stage="tillering")
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n"
                    "  ao-tu: {profile: fish_pond, tan_mg_l: 0.8}\n"
                    "  trai-ga: {profile: poultry_barn, outdoor_node: ngoai-troi}\n"
                    "  ruong-ba: {profile: rice_paddy, stage: tillering, lat: 20.8, lon: 106.4}\n")
    from_file = SiteDirectory(str(path))
    from_registry = SiteDirectory(registry=registry_lookup(url))
    for site in ("ao-tu", "trai-ga", "ruong-ba"):
        assert from_registry.get(site) == from_file.get(site)
    assert from_registry.get("ruong-ba").stage == "tillering"
