"""TLS with a CA file: the node verifies the broker's certificate against `mqtt.ca_file`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge.cli import app
from ruongso.local_services import Mosquitto
from tests.edge.conftest import write_config
from tests.edge.fakes import w1_slave_text, write_ds18b20


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    key, crt = folder / f"{name}.key", folder / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", f"/CN={name}"],
                   check=True, capture_output=True)  # fmt: skip
    return key, crt


def make_server_cert(folder: Path, ca_key: Path, ca_crt: Path) -> tuple[Path, Path]:
    key, csr, crt, ext = (folder / n for n in ("server.key", "server.csr", "server.crt", "ext.cnf"))
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    subprocess.run(
        [
            "openssl",
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(csr),
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext)],
                   check=True, capture_output=True)  # fmt: skip
    return key, crt


class TlsMosquitto(Mosquitto):
    """Mosquitto whose only listener speaks TLS with the given certificate."""

    def __init__(self, workdir: Path, key: Path, crt: Path) -> None:
        super().__init__(workdir)
        self.key, self.crt = key, crt

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.port}"

    def write_conf(self) -> None:
        super().write_conf()
        with self.conf_path.open("a") as conf:
            conf.write(f"certfile {self.crt}\nkeyfile {self.key}\n")


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[TlsMosquitto, Path]]:
    ca_key, ca_crt = make_ca(tmp_path / "pki", "ruongso-test-ca")
    key, crt = make_server_cert(tmp_path / "pki", ca_key, ca_crt)
    svc = TlsMosquitto(tmp_path / "mosq", key, crt)
    svc.start()
    yield svc, ca_crt
    svc.stop()


def run_check(tmp_path: Path, url: str, ca_file: Path) -> tuple[int, str]:
    write_ds18b20(tmp_path / "root", "28-00000a", w1_slave_text(25.0))
    sensors = [{"name": "t", "driver": "ds18b20", "quantity": "water_temp"}]
    config = write_config(tmp_path, url, sensors, sys_root=str(tmp_path / "root"), mqtt={"ca_file": str(ca_file)})
    result = CliRunner().invoke(app, ["check", "--config", str(config), "--timeout", "3"])
    return result.exit_code, result.output


def test_the_right_ca_file_connects_over_tls(tmp_path: Path, tls_broker: tuple[TlsMosquitto, Path]) -> None:
    broker, ca = tls_broker
    code, output = run_check(tmp_path, broker.url, ca)
    assert code == 0, output
    assert "over TLS" in output


def test_a_broker_certificate_from_another_ca_is_refused_with_a_ca_hint(
    tmp_path: Path, tls_broker: tuple[TlsMosquitto, Path]
) -> None:
    broker, _ = tls_broker
    _, other_ca = make_ca(tmp_path / "other", "someone-else")
    code, output = run_check(tmp_path, broker.url, other_ca)
    assert code == 1
    assert any(line.startswith("credentials") and "FAIL" in line for line in output.splitlines())
    assert "mqtt.ca_file" in output
