"""`ruongso edge check`: one table of OK/FAIL with hints; exit 0 only when everything passes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edge.cli import app
from ruongso.local_services import Mosquitto, free_port
from tests.edge.conftest import write_config
from tests.edge.fakes import w1_slave_text, write_ds18b20

SENSORS: list[dict[str, Any]] = [
    {"name": "water-temp", "driver": "ds18b20", "quantity": "water_temp"},
    {"name": "air", "driver": "simulated", "quantities": ["air_temp"]},
]


def check(config: Path) -> Any:
    return CliRunner().invoke(app, ["check", "--config", str(config), "--timeout", "3"])


def node(tmp_path: Path, url: str, **kw: Any) -> Path:
    return write_config(tmp_path, url, SENSORS, sys_root=str(tmp_path / "root"), **kw)


def test_a_healthy_node_passes_every_row_and_exits_0(tmp_path: Path, broker: Mosquitto) -> None:
    write_ds18b20(tmp_path / "root", "28-00000a", w1_slave_text(27.5))
    result = check(node(tmp_path, broker.url))
    assert result.exit_code == 0, result.output
    for row in ("config", "clock", "spool", "sensor water-temp", "sensor air", "broker", "credentials"):
        assert any(line.startswith(row) and " OK " in line for line in result.output.splitlines()), row
    assert "water_temp=27.5 °C" in result.output and "all checks passed" in result.output


def test_failures_show_fail_with_a_hint_and_exit_1(tmp_path: Path) -> None:
    write_ds18b20(tmp_path / "root", "28-00000a", w1_slave_text(raw=0x0550))
    result = check(node(tmp_path, f"mqtt://127.0.0.1:{free_port()}"))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    sensor = next(i for i, line in enumerate(lines) if line.startswith("sensor water-temp"))
    assert "FAIL" in lines[sensor] and "85.000" in lines[sensor] and "→" in lines[sensor + 1]
    assert any(line.startswith("broker") and "FAIL" in line for line in lines)
    assert any(line.startswith("sensor air") and " OK " in line for line in lines)
    assert "2 check(s) failed" in result.output


def test_a_config_error_is_one_fail_row_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("site: s\nnode: n\nsensors:\n  - {name: a, driver: sht31, adress: 0x44}\n")
    result = check(path)
    assert result.exit_code == 1
    assert "config" in result.output and "FAIL" in result.output and "unknown option(s) adress" in result.output


@pytest.fixture
def password_broker(tmp_path: Path) -> Any:
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "edge-node", "right"], check=True)
    passwords.chmod(0o600)
    svc = Mosquitto(tmp_path / "mosq", password_file=passwords)
    svc.start()
    yield svc
    svc.stop()


def test_wrong_credentials_fail_with_a_hint_right_ones_pass(tmp_path: Path, password_broker: Mosquitto) -> None:
    write_ds18b20(tmp_path / "root", "28-00000a", w1_slave_text(20.0))
    url = password_broker.url
    wrong = check(node(tmp_path, url, mqtt={"username": "edge-node", "password": "wrong"}))
    assert wrong.exit_code == 1
    assert any(line.startswith("credentials") and "FAIL" in line for line in wrong.output.splitlines())
    assert "password_file" in wrong.output
    right = check(node(tmp_path, url, mqtt={"username": "edge-node", "password": "right"}))
    assert right.exit_code == 0, right.output


def test_the_real_command_runs_the_check(tmp_path: Path, broker: Mosquitto, ruongso_cmd: list[str]) -> None:
    write_ds18b20(tmp_path / "root", "28-00000a", w1_slave_text(27.5))
    cmd = [*ruongso_cmd, "edge", "check", "--config", str(node(tmp_path, broker.url))]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout


def test_a_quantity_the_registry_expects_but_no_sensor_produces_fails_the_check(
    tmp_path: Path, broker: Mosquitto
) -> None:
    from tests.edge.test_edge_config import provisioned_file

    prov = provisioned_file(tmp_path, ["water_temp", "dissolved_oxygen"])
    write_ds18b20(tmp_path / "root", "28-00000a", w1_slave_text(27.5))
    config = tmp_path / "node.yaml"
    config.write_text(
        f"provisioned: {prov}\nmqtt: {{url: {broker.url}}}\nsys_root: {tmp_path / 'root'}\n"
        f"spool: {{path: {tmp_path / 'spool.sqlite'}}}\n"
        "sensors:\n  - {name: t, driver: ds18b20, quantity: water_temp}\n"
    )
    result = check(config)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("registry"))
    assert "FAIL" in line and "dissolved_oxygen" in line
