"""`ruongso ingest`: MQTT telemetry → InfluxDB. Only typer and the stdlib at module level."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer


def command(
    mqtt_url: str = typer.Option(None, help="Broker, e.g. mqtt://user:pass@host:1883 [env RUONGSO_MQTT_URL]"),
    influx_url: str = typer.Option(None, help="InfluxDB, e.g. http://127.0.0.1:8086 [env RUONGSO_INFLUX_URL]"),
    influx_db: str = typer.Option(None, help="Database, created if missing [env RUONGSO_INFLUX_DB]"),
    client_id: str = typer.Option(None, help="Stable MQTT client id (default ruongso-ingest-<host>-<db>)"),
    share_group: str = typer.Option(None, help="Shared-subscription group, so several ingests split the stream"),
    batch_size: int = typer.Option(None, help="Points per InfluxDB write (default 5000)"),
    batch_ms: int = typer.Option(None, help="Longest wait to fill a batch, ms (default 200)"),
    state_dir: Path = typer.Option(None, help="Spool, dead letters, lock (default: ~/.local/state/ruongso/ingest/…)"),
    spool_max_bytes: int = typer.Option(None, help="Disk spool cap in bytes (default 1 GiB)"),
    dead_letter_file: Path = typer.Option(None, help="Dead-letter JSON lines (default <state-dir>/dead-letters.jsonl)"),
    metrics_port: int = typer.Option(None, help="Prometheus /metrics port, 0 = off (default 9471)"),
    metrics_host: str = typer.Option(None, help="Address for /metrics (default 127.0.0.1)"),
    max_future_ms: int = typer.Option(None, help="Refuse readings further in the future than this (default 300000)"),
    log_json: bool = typer.Option(None, "--log-json", help="One JSON object per log line"),
    log_level: str = typer.Option(None, help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Subscribe to telemetry and status (QoS 1), validate, write batches to InfluxDB, ack after write."""
    from ingest.service import IngestError, Ingestor
    from ingest.settings import IngestSettings
    from ruongso import logs
    from ruongso.settings import SettingsError, build

    flags: dict[str, Any] = dict(locals())
    for name in ("IngestError", "Ingestor", "IngestSettings", "logs", "SettingsError", "build"):
        flags.pop(name, None)
    try:
        settings = build(IngestSettings, **flags)
    except SettingsError as exc:
        typer.echo(f"ruongso ingest: {exc}", err=True)
        raise typer.Exit(2) from None
    logs.configure(settings.log_json, settings.log_level)

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ingestor = Ingestor(settings)
    typer.echo(ingestor.describe())
    sys.stdout.flush()
    try:
        ingestor.start()
    except IngestError as exc:
        typer.echo(f"ruongso ingest: {exc}", err=True)
        ingestor.stop()
        raise typer.Exit(1) from None
    code = ingestor.run_until(stop)
    ingestor.stop()
    m = ingestor.metrics
    typer.echo(
        f"ruongso ingest: stopped; {m.messages_in} messages, {m.points_written} points written, "
        f"{m.rejected_total} rejected, {m.spool_records} batches left in the spool"
    )
    raise typer.Exit(code)
