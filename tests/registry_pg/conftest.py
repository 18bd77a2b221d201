"""A private PostgreSQL server for the registry's PostgreSQL tests: `initdb` + `pg_ctl` from the Debian package
`postgresql` (/usr/lib/postgresql/<version>/bin), on a free loopback port, in a temporary directory, stopped at the
end of the session. Each test gets its own schema (through the URL's `options=-csearch_path=…`), so tests never
see each other's rows and no database has to be created per test."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_schemas = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
                    "install the Debian package `postgresql` (scripts/install.sh does)", pytrace=False)
    return Path(found[-1]).parent


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` OS user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a running server (user `postgres`, trust authentication on 127.0.0.1 only), database `postgres`."""
    bin_dir = _bin_dir()
    base = Path(tempfile.mkdtemp(prefix="ruongso-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    run = _as_postgres()
    subprocess.run([*run, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=60)
    # fsync off: a test server's data need not survive a power cut, and the tests go much faster.
    options = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    started = subprocess.run([*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                              "-o", options, "-w", "-t", "30", "start"], capture_output=True, text=True, timeout=60)
    if started.returncode != 0:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {started.stderr}\n{log}", pytrace=False)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: str) -> str:
    """A registry URL on an empty schema of its own."""
    import psycopg

    schema = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{postgres_server}?options=-csearch_path%3D{schema}"
