"""`ruongso notify`: deliver alerts; `ruongso notify status`: what was delivered to whom."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

app = typer.Typer(no_args_is_help=False, add_completion=False, pretty_exceptions_enable=False)


def _fail(message: str) -> None:
    typer.echo(f"ruongso notify: {message}", err=True)
    raise typer.Exit(2)


@app.callback(invoke_without_command=True)
def command(
    ctx: typer.Context,
    routing: Annotated[Optional[str], typer.Option(help="YAML routing file (who gets what)")] = None,  # noqa: UP045
    registry: Annotated[Optional[str], typer.Option(help="registry URL sqlite:///… or postgresql://…")] = None,  # noqa: UP045
    outbox: Annotated[Optional[str], typer.Option(help="outbox SQLite file")] = None,  # noqa: UP045
    mqtt_url: Annotated[Optional[str], typer.Option(help="mqtt://user:pass@host:1883")] = None,  # noqa: UP045
    log_json: Annotated[Optional[bool], typer.Option(help="one JSON object per log line")] = None,  # noqa: UP045
) -> None:
    """Deliver alert events from farm/+/alerts to farmers, technicians and officers."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"outbox": outbox}
        return
    from notify.routing_yaml import RoutingError
    from notify.service import run
    from notify.settings import NotifySettings
    from registry.db import DatabaseError
    from ruongso import logs
    from ruongso.ack_tokens import AckSecretError, secret_bytes
    from ruongso.settings import SettingsError, build

    try:
        s = build(NotifySettings, notify_routing=routing, registry_url=registry, notify_outbox=outbox,
                  mqtt_url=mqtt_url, log_json=log_json)  # fmt: skip
        secret_bytes(s.ack_secret)
    except (SettingsError, AckSecretError) as exc:
        _fail(str(exc))
    logs.configure(s.log_json, s.log_level)
    try:
        run(s)
    except (RoutingError, ValueError, ConnectionError, OSError) as exc:
        _fail(str(exc))
    except DatabaseError as exc:
        _fail(f"{type(exc).__name__}: {exc}")


@app.command("status")
def status(
    ctx: typer.Context,
    alert: Annotated[Optional[str], typer.Option(help="only this alert id")] = None,  # noqa: UP045
) -> None:
    """Print the delivery status rows (JSON lines) from the outbox."""
    import os
    import sqlite3

    from notify.outbox import read_status

    path = (ctx.obj or {}).get("outbox") or os.environ.get("RUONGSO_NOTIFY_OUTBOX", "ruongso-notify.db")
    try:
        rows = read_status(path, alert)
    except sqlite3.Error as exc:
        _fail(f"cannot read outbox {path}: {exc}")
    for r in rows:
        typer.echo(json.dumps(r, ensure_ascii=False))


@app.command("templates")
def show_templates() -> None:
    """Print the fixed message templates with their parameters, for registering them as Zalo ZNS templates."""
    from notify.templates import PARAM_MAX, TEMPLATES, ZNS_MAX_CHARS

    for t in TEMPLATES.values():
        params = ", ".join(f"{p} (≤ {PARAM_MAX[p]})" for p in t.params)
        typer.echo(f"{t.name}\n  {t.text}\n  params: {params}; rendered ≤ {ZNS_MAX_CHARS} characters\n")
