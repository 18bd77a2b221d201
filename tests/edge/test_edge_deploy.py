"""The deployment files agree with the agent: command, paths, samples; the installer refuses bad input."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "edge/deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "ruongso-edge.service")
    return parser


def test_the_unit_runs_the_agent_on_the_installed_config_and_restarts_it() -> None:
    service = unit()["Service"]
    assert service["ExecStart"] == "/opt/ruongso-edge/venv/bin/ruongso edge --config /etc/ruongso-edge/node.yaml"
    assert service["Restart"] == "always" and service["KillSignal"] == "SIGTERM"
    assert {"i2c", "gpio", "dialout"} <= set(service["SupplementaryGroups"].split())


def test_every_sample_spools_inside_the_units_state_directory() -> None:
    state = Path("/var/lib") / unit()["Service"]["StateDirectory"]
    for sample in (DEPLOY / "samples").glob("*.yaml"):
        assert Path(yaml.safe_load(sample.read_text())["spool"]["path"]).parent == state, sample.name


def test_the_installer_is_valid_bash_and_refuses_an_unknown_production_type() -> None:
    subprocess.run(["bash", "-n", str(DEPLOY / "install.sh")], check=True)
    result = subprocess.run([str(DEPLOY / "install.sh"), "--profile", "shrimp"], capture_output=True, text=True)
    assert result.returncode == 2 and "no sample config for production type 'shrimp'" in result.stderr
