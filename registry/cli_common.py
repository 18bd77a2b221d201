"""What the registry's commands share: settings from env and flags, the open registry, readable errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from registry.db import Connection
    from registry.settings import RegistrySettings

REGISTRY_OPTION = typer.Option(None, "--registry", help="Registry URL (env RUONGSO_REGISTRY_URL).")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextlib.contextmanager
def opened(**flags: Any) -> Iterator[tuple[RegistrySettings, Connection]]:
    """Settings and registry; RegistryError and SettingsError become one line and a non-zero exit."""
    from registry.db import DatabaseError, RegistryError, open_registry
    from registry.settings import RegistrySettings
    from ruongso import logs
    from ruongso.settings import SettingsError, build

    try:
        settings = build(RegistrySettings, **flags)
    except SettingsError as exc:
        raise fail(str(exc), 2) from None
    logs.configure(settings.log_json, "WARNING")
    try:
        conn = open_registry(settings.registry_url)
    except RegistryError as exc:
        raise fail(str(exc)) from None
    except DatabaseError as exc:
        raise fail(str(exc)) from None
    try:
        yield settings, conn
    except RegistryError as exc:
        raise fail(str(exc)) from None
    except DatabaseError as exc:
        raise fail(str(exc)) from None
    finally:
        conn.close()
