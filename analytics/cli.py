"""`ruongso analytics run|score`. Only typer and the stdlib at import time (see ruongso/cli.py)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.command("score")
def score(
    input: Path = typer.Option(..., "--input", "-i", help="CSV with columns timestamp,value."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV written with timestamp,value,anomaly_score."),
    detector: str = typer.Option("seasonal", help="Detector name (see docs/analytics.md)."),
) -> None:
    """Score one series offline with the live streaming detector (each row sees only earlier rows)."""
    from analytics.score import ScoreInputError, score_file

    try:
        n = score_file(input, output, detector)
    except (ScoreInputError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"scored {n} rows → {output}")


@app.command("run")
def run(
    mqtt_url: str = typer.Option(None, help="Broker URL (env RUONGSO_MQTT_URL)."),
    influx_url: str = typer.Option(None, help="InfluxDB URL (env RUONGSO_INFLUX_URL)."),
    influx_db: str = typer.Option(None, help="InfluxDB database (env RUONGSO_INFLUX_DB)."),
    partition: str = typer.Option(None, help="i/n: handle only sites whose stable hash mod n is i."),
    sites: Path = typer.Option(None, help="YAML of sites: profile, stage, location, threshold overrides."),
    registry_url: str = typer.Option(None, help="Registry with sites and overrides (env RUONGSO_REGISTRY_URL)."),
    state_file: Path = typer.Option(None, help="Where firing alerts and silences are kept across restarts."),
    client_id: str = typer.Option(None, help="MQTT client id (default analytics-<partition>)."),
    warmup_hours: float = typer.Option(None, help="Hours of stored readings replayed at start (default 48; 0: none)."),
    log_json: bool = typer.Option(None, "--log-json", help="Log one JSON object per line."),
) -> None:
    """Consume telemetry and status live; emit alert events and derived indicators."""
    from analytics.service import main

    raise typer.Exit(
        main(
            mqtt_url=mqtt_url,
            influx_url=influx_url,
            influx_db=influx_db,
            partition=partition,
            sites_file=str(sites) if sites else None,
            registry_url=registry_url,
            state_file=str(state_file) if state_file else None,
            client_id=client_id,
            warmup_hours=warmup_hours,
            log_json=log_json,
        )
    )
