"""Real services for tests: Mosquitto and InfluxDB on free loopback ports, in temp dirs.

If a binary is missing the fixture fails with what to install (CI installs both); tests never skip.
Session-scoped servers are shared; each test gets its own database and site slugs so tests do not
see each other's data. Tests that stop or kill a server use the function-scoped `own_*` fixtures.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto, ServiceError

ROOT = Path(__file__).resolve().parent.parent
_counter = itertools.count()


def _start(service: Mosquitto | Influxd) -> Mosquitto | Influxd:
    try:
        service.start()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)
    return service


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    svc = _start(Mosquitto(tmp_path_factory.mktemp("mosquitto")))
    yield svc  # type: ignore[misc]
    svc.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    svc = _start(Influxd(tmp_path_factory.mktemp("influxd")))
    yield svc  # type: ignore[misc]
    svc.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    svc = _start(Mosquitto(tmp_path / "mosquitto"))
    yield svc  # type: ignore[misc]
    svc.stop()


@pytest.fixture
def own_influxd(tmp_path: Path) -> Iterator[Influxd]:
    svc = _start(Influxd(tmp_path / "influxd"))
    yield svc  # type: ignore[misc]
    svc.stop()


@pytest.fixture
def db_name(request: pytest.FixtureRequest) -> str:
    """A database name of this test's own."""
    return f"t{os.getpid()}_{next(_counter)}"


@pytest.fixture
def influx(influxd: Influxd, db_name: str) -> Iterator[InfluxClient]:
    client = InfluxClient(influxd.url, db_name)
    client.create_database()
    yield client
    client.close()


@pytest.fixture
def ruongso_cmd() -> list[str]:
    """How to run the `ruongso` command from this checkout, in a child process."""
    return [sys.executable, "-m", "ruongso"]
