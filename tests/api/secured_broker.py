"""A Mosquitto run on the registry's password and ACL files, reloadable through a pid file."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.broker_files import BrokerFiles
from ruongso.local_services import Mosquitto, ServiceError


def broker_files(folder: Path) -> BrokerFiles:
    """Files in `folder`; provisioning reloads the broker with SIGHUP to the pid in `mosquitto.pid`."""
    return BrokerFiles(folder / "passwd", folder / "acl", f"pid:{folder / 'mosquitto.pid'}")


def without_reload(files: BrokerFiles) -> BrokerFiles:
    """For provisioning before the broker runs."""
    return BrokerFiles(files.password_file, files.acl_file, "")


def start_secured_broker(folder: Path, files: BrokerFiles) -> Mosquitto:
    """Start Mosquitto on the files (written already) and record its pid for reloads."""
    broker = Mosquitto(folder / "mosquitto", password_file=files.password_file, acl_file=files.acl_file)
    try:
        broker.start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert broker.proc is not None
    (folder / "mosquitto.pid").write_text(f"{broker.proc.pid}\n")
    return broker
