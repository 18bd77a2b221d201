"""A private PostgreSQL server for the registry's PostgreSQL tests: `initdb` + `postgres` from the Debian package
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

from tests.waiting import wait_until

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


def _accepts(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


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
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    # Our own child (not pg_ctl's daemon), so it is stopped and reaped here and never outlives the session.
    # fsync off: a test server's data need not survive a power cut, and the tests go much faster.
    log_path = base / "server.log"
    with open(log_path, "wb") as log:  # a file, not a pipe: nobody reads the log while the tests run
        server = subprocess.Popen(
            [*run, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(base),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: server.poll() is not None or _accepts(url), timeout=30, what="PostgreSQL to accept")
        if server.poll() is not None:
            pytest.fail(f"PostgreSQL did not start:\n{log_path.read_text(errors='replace')}", pytrace=False)
        yield url
    finally:
        if server.poll() is None:
            # pg_ctl's "fast" stop: the postmaster ends its sessions and exits, and runuser with it.
            subprocess.run([*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=60)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: str) -> str:
    """A registry URL on an empty schema of its own."""
    import psycopg

    schema = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{postgres_server}?options=-csearch_path%3D{schema}"
