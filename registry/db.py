"""Opening the registry database from a URL, with its migrations applied.

`sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or a bare path. The SQL in migrations/ and in
the query modules is portable (`?` placeholders are the one SQLite-ism besides `INTEGER PRIMARY KEY`);
PostgreSQL support would add a `postgresql://` branch here returning a DB-API connection whose cursor
translates `?` to `%s` (docs/api.md, "PostgreSQL").
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"
DEFAULT_URL = "sqlite:///ruongso-registry.db"


class RegistryError(ValueError):
    """A registry request that cannot be honoured; the message says why, for a person."""


class NotFound(RegistryError):
    pass


class Conflict(RegistryError):
    pass


def now_ms() -> int:
    return int(time.time() * 1000)


def split_list(text: str) -> list[str]:
    """A comma-separated column (sensors, channels) as a list."""
    return [item for item in text.split(",") if item]


def sqlite_path(url: str) -> Path:
    if url.startswith(("postgresql://", "postgres://")):
        raise RegistryError(
            "PostgreSQL registry URLs are not built in yet (see docs/api.md, 'PostgreSQL'); use sqlite:///path"
        )
    if url.startswith(SQLITE_PREFIX):
        return Path(url[len(SQLITE_PREFIX):])
    if "://" in url:
        raise RegistryError(f"registry URL {url!r} must look like sqlite:///path/to/registry.db")
    return Path(url)


def _migrations() -> list[tuple[int, str]]:
    folder = Path(__file__).resolve().parent / "migrations"
    return sorted(
        (int(f.name[:4]), f.read_text(encoding="utf-8")) for f in folder.glob("[0-9][0-9][0-9][0-9]_*.sql")
    )


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration not applied yet, each in its own transaction; return the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT)")
    done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    version = max(done, default=0)
    for number, sql in _migrations():
        if number in done:
            continue
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Someone else may have migrated while we waited for the write lock.
            if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (number,)).fetchone():
                conn.execute("COMMIT")
                continue
            for statement in (s.strip() for s in sql.split(";")):
                if statement and not all(line.startswith("--") for line in statement.splitlines()):
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)", (number, now_ms()))
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        version = number
    return version


def connect(url: str) -> sqlite3.Connection:
    """A connection in autocommit mode (writes use `transaction()`); rows are sqlite3.Row."""
    path = sqlite_path(url)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    except sqlite3.Error as exc:
        raise RegistryError(f"cannot open registry {path}: {exc}") from None
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def open_registry(url: str = DEFAULT_URL) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the registry at `url`."""
    conn = connect(url)
    # WAL lets the API read while `ruongso node add` writes.
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn)
    return conn


class transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error; integrity errors become Conflict."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
            return
        self.conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            raise Conflict(f"conflicts with what the registry holds: {exc}") from None


class ConnectionPool:
    """Open connections kept for reuse (opening one costs ~0.25 ms, a request's whole registry work less).

    A connection is lent to one user at a time and comes back in autocommit mode (`transaction` always
    commits or rolls back), so the next borrower starts clean. At most `size` idle connections are kept.
    """

    def __init__(self, url: str, size: int = 16) -> None:
        self.url = url
        self.size = size
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def acquire(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return connect(self.url)

    def release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.rollback()
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
