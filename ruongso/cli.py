"""The `ruongso` command. Each part of the system contributes its subcommands here.

Every part's `cli` module imports only typer and the stdlib at module level (heavy imports happen
inside the commands), so `ruongso edge` starts fast on a Raspberry Pi that has none of the server
dependencies installed. A part whose extra is missing shows as a command that says what to install.
"""

from __future__ import annotations

import importlib
import sys

import typer

from ruongso import __version__

# (subcommand, module): the module exposes `app` (a Typer with its own subcommands) or `command`.
PARTS: list[tuple[str, str, str]] = [
    ("edge", "edge.cli", "Raspberry Pi sensor-node agent."),
    ("sim", "simulators.cli", "Simulated sensor nodes with fault injection."),
    ("dashboards", "dashboards.cli", "Build and push the Grafana boards."),
    ("demo", "ruongso.demo_cli", "Run a local farm: broker, InfluxDB, simulated nodes, services, live view."),
    ("analytics", "analytics.cli", "Anomaly detection, agronomic rules, derived indicators, alerts."),
    ("api", "api.cli", "HTTP API for readings, alerts, fleet and provisioning."),
    ("node", "registry.cli", "Provision and revoke sensor nodes."),
    ("site", "registry.site_cli", "Register communes, sites and their contacts."),
    ("token", "registry.token_cli", "Create, list and revoke API tokens."),
    ("ingest", "ingest.cli", "MQTT telemetry → InfluxDB."),
    ("notify", "notify.cli", "Deliver alerts to farmers, technicians and officers."),
]

app = typer.Typer(
    name="ruongso",
    help="Ruộng Số: smart-agriculture telemetry (edge → MQTT → InfluxDB → alerts).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def _missing(name: str, module: str, exc: ImportError) -> typer.Typer:
    stub = typer.Typer(help=f"(unavailable: {exc.name} is not installed)")

    @stub.callback(invoke_without_command=True)
    def _explain() -> None:
        typer.echo(
            f"'ruongso {name}' needs {exc.name!r}, which is not installed here. "
            "Install the server extra: pip install 'ruongso[server]'",
            err=True,
        )
        raise typer.Exit(2)

    return stub


def _register() -> None:
    for name, module, help_text in PARTS:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            app.add_typer(_missing(name, module, exc), name=name, help=help_text)
            continue
        if hasattr(mod, "app"):
            app.add_typer(mod.app, name=name, help=help_text)
        else:
            app.command(name, help=help_text)(mod.command)


_register()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
