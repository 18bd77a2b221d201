"""Private Mosquitto and InfluxDB 1.x processes on free loopback ports, data in a folder of our own.

Used by the test fixtures (tests/conftest.py) and by `ruongso demo`, so both run the very same
services: nothing assumes a broker or database is already running on the machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


class ServiceError(RuntimeError):
    """A local service could not be started; the message says what to install or look at."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    # If the parent is killed (even with -9) the kernel sends SIGTERM to the child, so a crashed
    # demo or test run never leaves a broker or database behind.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _binary(name: str, package: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise ServiceError(f"{name} not found: install the Debian package {package!r} (apt-get install {package})")
    return found


class ServiceProcess:
    name = "service"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with {self.proc.returncode}: {self.tail_log()}")
            if self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"{self.name} not ready after {timeout:.0f} s: {self.tail_log()}")

    def tail_log(self, n: int = 15) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-n:])
        except OSError:
            return "(no log)"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL, as a crash or power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.stop()

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Mosquitto(ServiceProcess):
    """A Mosquitto broker. Anonymous unless a password file is given; ACL file optional."""

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        password_file: Path | None = None,
        acl_file: Path | None = None,
        persistence: bool = True,
    ) -> None:
        super().__init__(workdir)
        self.binary = _binary("mosquitto", "mosquitto")
        self.port = port or free_port()
        self.password_file = password_file
        self.acl_file = acl_file
        self.persistence = persistence

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    def write_conf(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.password_file else 'true'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 5",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            # Ingest keeps a persistent session; a broker that drops queued QoS 1 messages at the
            # default 1000 would lose readings during an ingest restart under load.
            "max_queued_messages 1000000",
            "max_inflight_messages 0",
            "max_packet_size 1048576",
            # Without this, Mosquitto started as root drops to user 'mosquitto', who cannot write here.
            f"user {getpass.getuser()}",
        ]
        if self.password_file:
            lines.append(f"password_file {self.password_file}")
        if self.acl_file:
            lines.append(f"acl_file {self.acl_file}")
        self.conf_path.write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        self.write_conf()
        return [self.binary, "-c", str(self.conf_path)]

    def ready(self) -> bool:
        return _port_open(self.port)

    def reload(self) -> None:
        """Re-read password and ACL files (SIGHUP), as after `ruongso node add`."""
        self.signal(signal.SIGHUP)


class Influxd(ServiceProcess):
    """An InfluxDB 1.x server (`influxd`), HTTP API on a free loopback port."""

    name = "influxd"

    def __init__(self, workdir: Path, port: int | None = None, auth: bool = False) -> None:
        super().__init__(workdir)
        self.binary = _binary("influxd", "influxdb")
        self.port = port or free_port()
        self.rpc_port = free_port()
        self.auth = auth

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_conf(self) -> Path:
        d = self.workdir
        conf = d / "influxdb.conf"
        conf.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {"true" if self.auth else "false"}
  log-enabled = false
  max-body-size = 0
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
"""
        )
        return conf

    def command(self) -> list[str]:
        return [self.binary, "run", "-config", str(self.write_conf())]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5) as r:
                return r.status == 204
        except OSError:
            return False
