"""node.yaml and remote config: errors name the bad key; every driver builds from its sample options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.config import load_node_config, parse_node_config, parse_remote_config, parse_size
from edge.drivers import DRIVERS, ConfigError
from edge.sampler import build_sensors
from tests.edge.fakes import hardware

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "edge/deploy/samples").glob("*.yaml"))


def minimal(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "site": "tk-rice-1",
        "node": "tk-rice-n01",
        "sensors": [{"name": "air", "driver": "simulated"}],
    }
    doc.update(over)
    return doc


def error_of(doc: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_node_config(doc)
    return str(err.value)


def test_a_minimal_config_gets_documented_defaults() -> None:
    cfg = parse_node_config(minimal())
    assert cfg.mqtt.username == "tk-rice-n01"
    assert cfg.spool.max_bytes == 64_000_000 and cfg.spool.confirm == "ack"
    assert cfg.sensors[0].interval_s == 60.0 and cfg.sensors[0].samples == 1


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"node": "Bad Node"}, "node:"),
        ({"colour": "red"}, "unknown top-level key(s) colour"),
        ({"mqtt": {"url": "http://x"}}, "mqtt.url"),
        ({"mqtt": {"pasword": "x"}}, "mqtt: unknown option(s) pasword"),
        ({"spool": {"max_bytes": "lots"}}, "spool.max_bytes"),
        ({"spool": {"commit_every": "soon"}}, "spool.commit_every"),
        ({"sensors": []}, "sensors: must be a non-empty list"),
        ({"sensors": [{"name": "a", "driver": "dht99"}]}, "sensors[0] (a).driver: unknown driver 'dht99'"),
        ({"sensors": [{"name": "a", "driver": "simulated", "interval": "0.01s"}]}, "sensors[0] (a).interval"),
        ({"sensors": [{"name": "a", "driver": "simulated"}, {"name": "a", "driver": "simulated"}]}, "used twice"),
    ],
)
def test_config_errors_name_the_bad_key(change: dict[str, Any], names: str) -> None:
    assert names in error_of(minimal(**change))


@pytest.mark.parametrize(
    ("sensor", "names"),
    [
        ({"driver": "sht31", "adress": 0x44}, "unknown option(s) adress"),
        ({"driver": "sht31", "address": 0x50}, "(a).address: 0x50 is not an address this chip can have"),
        ({"driver": "ds18b20"}, "(a).quantity: required"),
        ({"driver": "soil_moisture", "dry_volts": 0.5, "wet_volts": 1.5, "wet_vwc": 40}, "(a).dry_volts"),
        ({"driver": "battery", "gain": 3.0}, "(a).gain: 3.0 is not an ADS1115 full scale"),
        ({"driver": "mhz19", "range": 3000}, "(a).range"),
    ],
)
def test_driver_option_errors_name_the_sensor_and_the_key(tmp_path: Path, sensor: dict[str, Any], names: str) -> None:
    cfg = parse_node_config(minimal(sensors=[{"name": "a", **sensor}]))
    with pytest.raises(ConfigError, match=None) as err:
        build_sensors(cfg.sensors, hardware(tmp_path))
    assert names in str(err.value)


def test_two_sensors_producing_the_same_quantity_are_refused(tmp_path: Path) -> None:
    cfg = parse_node_config(minimal(sensors=[
        {"name": "a", "driver": "simulated", "quantities": ["air_temp"]},
        {"name": "b", "driver": "sht31"},
    ]))  # fmt: skip
    with pytest.raises(ConfigError, match="'air_temp' would come from both 'a' and 'b'"):
        build_sensors(cfg.sensors, hardware(tmp_path))


def test_missing_password_file_and_ca_file_are_named(tmp_path: Path) -> None:
    assert "mqtt.password_file" in error_of(minimal(mqtt={"password_file": str(tmp_path / "nope")}))
    assert "mqtt.ca_file" in error_of(minimal(mqtt={"url": "mqtts://h", "ca_file": str(tmp_path / "ca.pem")}))


def test_sizes_read_like_people_write_them() -> None:
    assert parse_size("64MB", "x") == 64_000_000
    assert parse_size("512 KiB", "x") == 524_288
    assert parse_size(1000000, "x") == 1000000


def test_remote_config_may_change_only_sensors_and_status_every() -> None:
    ok = parse_remote_config('{"sensors": [{"name": "a", "driver": "simulated"}], "status_every": "30s"}')
    assert ok.status_every_s == 30.0 and ok.sensors[0].name == "a"
    with pytest.raises(ConfigError, match="unknown key"):
        parse_remote_config('{"mqtt": {"url": "mqtt://evil"}}')
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_remote_config("{sensors: [")


def test_a_config_file_that_is_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("site: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_node_config(path)


def test_there_is_a_sample_config_per_production_type() -> None:
    from ruongso.profiles import profile_ids

    assert {p.stem for p in SAMPLES} == set(profile_ids())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_config_parses_and_builds(tmp_path: Path, sample: Path) -> None:
    doc = yaml.safe_load(sample.read_text())
    # The samples name files that exist only on a provisioned node (password, CA).
    assert {"password_file", "ca_file"} <= set(doc["mqtt"])
    doc["mqtt"] = {"url": doc["mqtt"]["url"]}
    cfg = parse_node_config(doc)
    sensors = build_sensors(cfg.sensors, hardware(tmp_path))
    assert sensors


def test_every_driver_appears_in_some_sample_config() -> None:
    used = {s["driver"] for p in SAMPLES for s in yaml.safe_load(p.read_text())["sensors"]}
    assert set(DRIVERS) - {"simulated"} <= used


def provisioned_file(tmp_path: Path, sensors: list[str]) -> Path:
    """The file `ruongso node add` writes, rendered by the registry's own code."""
    from registry.models import Node
    from registry.node_yaml import node_config, save

    node = Node(1, "tk-pond-1", "tk-pond-n07", sensors, 120, "", "tk-pond-1.tk-pond-n07", "x", "active", 0)
    path = tmp_path / "provisioned.yaml"
    save(node_config(node, "s3cret", "mqtts://broker.example:8883"), path)
    return path


def test_a_provisioned_file_from_node_add_supplies_identity_broker_password_and_interval(tmp_path: Path) -> None:
    prov = provisioned_file(tmp_path, ["water_temp"])
    cfg = parse_node_config({"provisioned": str(prov), "sensors": [{"name": "t", "driver": "simulated"}]})
    assert (cfg.site, cfg.node) == ("tk-pond-1", "tk-pond-n07")
    assert (cfg.mqtt.username, cfg.mqtt.password, str(cfg.mqtt.target)) == (
        "tk-pond-1.tk-pond-n07", "s3cret", "mqtts://broker.example:8883"
    )  # fmt: skip
    assert cfg.sensors[0].interval_s == 120 and cfg.expected_quantities == ("water_temp",)


def test_a_node_name_that_disagrees_with_the_provisioned_file_is_refused(tmp_path: Path) -> None:
    prov = provisioned_file(tmp_path, ["water_temp"])
    with pytest.raises(ConfigError, match="node: 'other' here but 'tk-pond-n07' in the provisioned file"):
        parse_node_config(
            {"provisioned": str(prov), "node": "other", "sensors": [{"name": "t", "driver": "simulated"}]}
        )
