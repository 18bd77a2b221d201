"""`ruongso node`: provision nodes (credentials, broker files, node.yaml), revoke them, list them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from registry.cli_common import REGISTRY_OPTION, fail, opened

if TYPE_CHECKING:
    from registry.provision import Provisioned

app = typer.Typer(no_args_is_help=True, help="Provision and revoke sensor nodes.")


def _hand_out(done: Provisioned, out: Path | None) -> Path | None:
    """Print node.yaml (`--out -`) or save it (mode 600); say so when the broker was not brought along."""
    from registry import node_yaml

    if not done.broker_synced:
        typer.echo("note: Mosquitto's files were not updated or it did not reload (unset RUONGSO_MOSQUITTO_* "
                   "settings, or see the log); fix and run `ruongso node sync-broker`", err=True)
    if out is not None and str(out) == "-":
        typer.echo(node_yaml.render(done.config), nl=False)
        return None
    path = out or Path(f"{done.node.site}-{done.node.slug}.node.yaml")
    node_yaml.save(done.config, path)
    return path


@app.command("add")
def add(
    site: str = typer.Option(..., "--site", help="Site slug (must exist: `ruongso site add`)."),
    node: str = typer.Option(..., "--node", help="New node slug, unique within the site."),
    profile: str = typer.Option(
        None, "--profile", help="The site's profile (sensors default to it); a new site is added with it."
    ),
    sensors: str = typer.Option(None, "--sensors", help="Comma-separated quantities (default: the profile's)."),
    interval: int = typer.Option(60, "--interval", help="Seconds between reading sets."),
    firmware: str = typer.Option("", "--firmware"),
    out: Path = typer.Option(None, "--out", help="node.yaml path (default ./<site>-<node>.node.yaml; '-' prints it)."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Create a node with a fresh MQTT password, update Mosquitto's files, write the node's node.yaml."""
    from registry import provision
    from registry.db import NotFound
    from registry.sites import add_site, get_site

    with opened(registry_url=registry) as (settings, conn):
        if profile is not None:
            try:
                existing = get_site(conn, site).profile
            except NotFound:
                # The first node of a new site: register the site too (`ruongso site add` sets the rest).
                existing = add_site(conn, site, site, profile).profile
                typer.echo(f"site {site} added with profile {profile}", err=True)
            if existing != profile:
                raise fail(f"site {site!r} has profile {existing!r}, not {profile!r}")
        chosen = [s.strip() for s in sensors.split(",") if s.strip()] if sensors else None
        done = provision.add_node(conn, settings.broker_files(), settings.url_for_nodes(), site, node, chosen,
                                  interval, firmware)
    path = _hand_out(done, out)
    if path is not None:
        typer.echo(f"node {site}/{node} added; MQTT user {done.node.mqtt_username}; node.yaml (secret): {path}")


@app.command("revoke")
def revoke(
    site: str = typer.Option(..., "--site"),
    node: str = typer.Option(..., "--node"),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Lock a node out: its password and ACL leave Mosquitto's files and the broker reloads."""
    from registry import provision

    with opened(registry_url=registry) as (settings, conn):
        _, synced = provision.revoke_node(conn, settings.broker_files(), site, node)
    typer.echo(f"node {site}/{node} revoked" + ("" if synced else " (no Mosquitto files configured)"))


@app.command("rotate")
def rotate(
    site: str = typer.Option(..., "--site"),
    node: str = typer.Option(..., "--node"),
    out: Path = typer.Option(None, "--out", help="Where to write the new node.yaml ('-' prints it)."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Give a node a new MQTT password (the old one stops working)."""
    from registry import provision

    with opened(registry_url=registry) as (settings, conn):
        done = provision.rotate_password(conn, settings.broker_files(), settings.url_for_nodes(), site, node)
    path = _hand_out(done, out)
    if path is not None:
        typer.echo(f"node {site}/{node}: new password in {path}")


@app.command("list")
def list_(site: str = typer.Option(None, "--site"), registry: str = REGISTRY_OPTION) -> None:
    """Nodes with state, sensors and interval."""
    from registry.nodes import list_nodes

    with opened(registry_url=registry) as (_, conn):
        for n in list_nodes(conn, site):
            typer.echo(f"{n.site}/{n.slug}\t{n.state}\t{n.interval_s}s\t{','.join(n.sensors)}\t{n.firmware}")


@app.command("service-account")
def service_account(
    username: str = typer.Argument(..., help="Account name, e.g. ingest or analytics (a slug)."),
    read_only: bool = typer.Option(False, "--read-only", help="Read farm/# only (dashboards, bridges)."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Create or re-key a broker account for a server-side service (reads every node); prints the password once."""
    from registry import provision

    with opened(registry_url=registry) as (settings, conn):
        password = provision.set_service_account(conn, settings.broker_files(), username,
                                                 "read" if read_only else "readwrite")
    typer.echo(password)


@app.command("sync-broker")
def sync_broker(registry: str = REGISTRY_OPTION) -> None:
    """Rewrite Mosquitto's password and ACL files from the registry and reload the broker."""
    from registry.broker_files import sync

    with opened(registry_url=registry) as (settings, conn):
        if not sync(conn, settings.broker_files()):
            raise fail("set RUONGSO_MOSQUITTO_PASSWORD_FILE and RUONGSO_MOSQUITTO_ACL_FILE first")
    typer.echo("broker files written")
