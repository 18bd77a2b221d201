"""`ruongso dashboards`: build the board JSON, push it to Grafana, check it against InfluxDB, load sites."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from dashboards.settings import DashboardsSettings

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("build")
def build_cmd(
    out: Path = typer.Option(None, "--out", help="Folder for the JSON (default: deploy/grafana/dashboards)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the committed JSON is stale."),
) -> None:
    """Regenerate the committed Grafana dashboard JSON from the builders."""
    from dashboards import build

    target = out or build.OUT_DIR
    if check:
        stale = build.stale_files(target)
        if stale:
            raise _fail(f"stale board JSON in {target}: {', '.join(stale)}; run 'ruongso dashboards build'")
        typer.echo(f"board JSON in {target} is up to date")
        return
    for path in build.build(target):
        typer.echo(str(path))


@app.command("push")
def push_cmd(
    grafana_url: str = typer.Option(..., "--grafana-url", envvar="RUONGSO_GRAFANA_URL", help="e.g. http://localhost:3000"),
    token: str = typer.Option(None, "--token", envvar="RUONGSO_GRAFANA_TOKEN",
                              help="Service-account token (Editor); env RUONGSO_GRAFANA_TOKEN."),
    directory: Path = typer.Option(None, "--dir", help="Folder of board JSON (default: deploy/grafana/dashboards)."),
) -> None:
    """Upload every board to Grafana (folder 'Ruộng Số', overwriting older versions)."""
    from dashboards import build, push

    if not token:
        raise _fail("no Grafana token: pass --token or set RUONGSO_GRAFANA_TOKEN (a service-account token)")
    if not grafana_url.startswith(("http://", "https://")):
        raise _fail(f"--grafana-url {grafana_url!r} must start with http:// or https://")
    try:
        uids = push.push(grafana_url, token, push.load_boards(directory or build.OUT_DIR))
    except push.PushError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"pushed {len(uids)} boards to {grafana_url}: {', '.join(uids)}")


@app.command("check")
def check_cmd(
    influx_url: str = typer.Option(None, "--influx-url", help="Default: RUONGSO_INFLUX_URL."),
    influx_db: str = typer.Option(None, "--influx-db", help="Default: RUONGSO_INFLUX_DB."),
    hours: float = typer.Option(24.0, "--hours", help="Time range to query, ending now."),
) -> None:
    """Run every panel query against InfluxDB as Grafana would; list the ones that return nothing."""
    from dashboards.boards import all_boards
    from dashboards.check import check_board
    from ruongso.influx import InfluxClient, InfluxError
    from ruongso.settings import ServiceSettings, SettingsError, build

    try:
        s = build(ServiceSettings, influx_url=influx_url, influx_db=influx_db)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    import time

    to_ms = int(time.time() * 1000)
    empty = 0
    with InfluxClient(s.influx_url, s.influx_db, s.influx_user, s.influx_password) as client:
        try:
            for board in all_boards():
                for r in check_board(board.to_json(), client, to_ms - int(hours * 3_600_000), to_ms):
                    if not r.ok:
                        empty += 1
                        typer.echo(f"{r.board} / {r.panel} [{r.ref_id}]: {r.error or 'no data'}")
        except InfluxError as exc:
            raise _fail(str(exc)) from None
    typer.echo(f"{empty} queries without data")
    if empty:
        raise typer.Exit(1)


@app.command("sites")
def sites_cmd(
    file: Path = typer.Argument(None, help="YAML list of {site, profile, lat, lon, name}, or a sim manifest."),
    registry: str = typer.Option(None, "--registry",
                                 help="Map every site of this fleet registry instead (env RUONGSO_REGISTRY_URL)."),
    every: str = typer.Option(None, "--every", help="With the registry: sync again every DURATION (e.g. 1m) "
                              "until stopped, for a service or a systemd unit."),
    influx_url: str = typer.Option(None, "--influx-url", help="Default: RUONGSO_INFLUX_URL."),
    influx_db: str = typer.Option(None, "--influx-db", help="Default: RUONGSO_INFLUX_DB."),
) -> None:
    """Write the sites' coordinates and production types (measurement site_info) for the boards."""
    from dashboards import sites
    from dashboards.settings import DashboardsSettings
    from ruongso.durations import parse_duration
    from ruongso.influx import InfluxClient, InfluxError
    from ruongso.settings import SettingsError, build

    if file is not None and registry is not None:
        raise _fail("give a sites FILE or --registry, not both")
    try:
        s = build(DashboardsSettings, influx_url=influx_url, influx_db=influx_db,
                  registry_url=None if file is not None else registry)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    url = s.registry_url
    if file is None and url is None:
        raise _fail("nothing to load: give a sites FILE, or --registry URL (or set RUONGSO_REGISTRY_URL)")
    if every is not None:
        if file is not None:
            raise _fail("--every re-reads the registry; a sites FILE is loaded once")
        try:
            every_s = parse_duration(every)
        except ValueError as exc:
            raise _fail(f"--every: {exc}") from None
        if every_s < 1:
            raise _fail(f"--every {every!r}: at least 1s")
        from dashboards.registry_sites import keep_in_step

        raise typer.Exit(keep_in_step(s, str(url), every_s))
    if file is None:
        _sites_from_registry(s, str(url))
        return
    try:
        found = sites.load(file)
        with InfluxClient(s.influx_url, s.influx_db, s.influx_user, s.influx_password) as client:
            client.write(sites.lines(found))
    except (ValueError, InfluxError) as exc:  # SiteError, or a database name InfluxDB would refuse
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {len(found)} sites to {s.influx_url} database {s.influx_db}")


def _sites_from_registry(s: DashboardsSettings, registry_url: str) -> None:
    from dashboards.registry_sites import report_lines, sync_once
    from ruongso.influx import InfluxError

    try:
        found, result = sync_once(s, registry_url)
    except (ValueError, InfluxError) as exc:  # SiteError, or a database name InfluxDB would refuse
        raise _fail(str(exc)) from None
    for line in report_lines(s, found, result):
        typer.echo(line)
