"""`ruongso demo`: a whole local farm on this machine, with a live view in the terminal."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    minutes: float = typer.Option(None, "--minutes", help="Stop after this many minutes (default: run until Ctrl-C)."),
    sites: int = typer.Option(6, "--sites", min=1, max=200, help="Simulated sites (production types in turn)."),
    nodes_per_site: int = typer.Option(2, "--nodes-per-site", min=1, max=50),
    interval: float = typer.Option(10.0, "--interval", min=1.0, help="Seconds between reading sets (simulated)."),
    speed: float = typer.Option(
        1.0, "--speed", min=1.0, max=3600.0,
        help="Simulated time runs this many times faster (needs --minutes: the run backfills the past up to now).",
    ),
    faults: str = typer.Option("", "--faults", help="Fault kinds to inject, e.g. 'spike,stuck' or 'all'."),
    seed: int = typer.Option(1, "--seed"),
    data_dir: Path = typer.Option(Path("demo-data"), "--data-dir", help="Where the private services keep data."),
    keep_data: bool = typer.Option(False, "--keep-data", help="Keep the data folder after the run."),
    plain: bool = typer.Option(False, "--plain", help="Print lines instead of a live table (for logs, CI)."),
    api: bool = typer.Option(
        True, "--api/--no-api",
        help="Also serve the HTTP API over a throwaway registry, with an admin token for this run (printed once).",
    ),
) -> None:
    """Start a private Mosquitto and InfluxDB, simulated nodes and every service (API too); show readings live."""
    from ruongso.demo import DemoError, DemoOptions, run_demo

    if speed > 1 and minutes is None:
        typer.echo("error: --speed above 1 needs --minutes (the simulated span must end now)", err=True)
        raise typer.Exit(2)
    opts = DemoOptions(minutes, sites, nodes_per_site, interval, speed, faults, seed, data_dir, keep_data, plain, api)
    try:
        run_demo(opts)
    except DemoError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
