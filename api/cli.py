"""`ruongso api`: serve the HTTP API, or print its OpenAPI schema."""

from __future__ import annotations

import json
import os

import typer

app = typer.Typer(no_args_is_help=True, help="HTTP API for readings, alerts, fleet and provisioning.")


def _settings(**flags: object) -> object:
    from api.settings import ApiSettings
    from ruongso.settings import SettingsError, build

    try:
        return build(ApiSettings, **flags)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("serve")
def serve(
    host: str = typer.Option(None, "--host", help="Listen address (env RUONGSO_API_HOST, default 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port (env RUONGSO_API_PORT, default 8080)."),
    registry: str = typer.Option(None, "--registry", help="Registry URL (env RUONGSO_REGISTRY_URL)."),
    influx_url: str = typer.Option(None, "--influx-url"),
    influx_db: str = typer.Option(None, "--influx-db"),
    mqtt_url: str = typer.Option(None, "--mqtt-url", help="Broker for alert-control messages (service account)."),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="Processes (each with its own cache)."),
) -> None:
    """Run the API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings
    from registry.db import RegistryError
    from ruongso import logs

    flags = {"api_host": host, "api_port": port, "registry_url": registry, "influx_url": influx_url,
             "influx_db": influx_db, "mqtt_url": mqtt_url}
    settings = _settings(**flags)
    assert isinstance(settings, ApiSettings)
    logs.configure(settings.log_json, settings.log_level)
    try:
        application = create_app(settings)
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if workers == 1:
        uvicorn.run(application, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)
        return
    # Worker processes build their own app from the environment: hand the flags over through it.
    os.environ.update({f"RUONGSO_{k.upper()}": str(v) for k, v in flags.items() if v is not None})
    uvicorn.run("api.app:app_from_env", factory=True, workers=workers, host=settings.api_host,
                port=settings.api_port, log_config=None, access_log=False)


@app.command("openapi")
def openapi(registry: str = typer.Option(None, "--registry")) -> None:
    """Print the OpenAPI schema (JSON)."""
    from api.app import create_app
    from api.settings import ApiSettings

    settings = _settings(registry_url=registry)
    assert isinstance(settings, ApiSettings)
    typer.echo(json.dumps(create_app(settings).openapi(), indent=1, ensure_ascii=False))
