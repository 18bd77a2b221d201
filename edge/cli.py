"""`ruongso edge --config node.yaml` runs the agent; `ruongso edge check --config node.yaml` self-tests.

Module level imports only typer and the stdlib (the `ruongso` root command imports every part's cli).
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Raspberry Pi sensor-node agent.", add_completion=False, pretty_exceptions_enable=False)

CONFIG_HELP = "The node's YAML config (samples: edge/deploy/samples/)."


@app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    config: Path = typer.Option(None, "--config", "-c", help=CONFIG_HELP),
    json_logs: bool = typer.Option(False, "--json-logs", help="One JSON object per log line."),
    log_level: str = typer.Option("INFO", "--log-level"),
) -> None:
    """Run the agent: sample, spool, publish; stop with SIGTERM or Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        typer.echo("usage: ruongso edge --config node.yaml   (or: ruongso edge check --config node.yaml)", err=True)
        raise typer.Exit(2)
    from edge.agent import Agent
    from edge.config import load_node_config
    from edge.drivers import ConfigError
    from ruongso.logs import configure

    configure(json_logs, log_level)
    try:
        agent = Agent(load_node_config(config))
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"cannot start: {exc}", err=True)
        raise typer.Exit(2) from None
    agent.run()


@app.command("check")
def check(
    config: Path = typer.Option(..., "--config", "-c", help=CONFIG_HELP),
    timeout: float = typer.Option(5.0, help="Seconds to wait for the broker."),
) -> None:
    """Read every sensor once and check clock, spool, broker and credentials; exit 0 only if all pass."""
    from edge.check import config_failure_row, render, run_checks
    from edge.config import load_node_config
    from edge.drivers import ConfigError

    try:
        cfg = load_node_config(config)
    except ConfigError as exc:
        render([config_failure_row(config, exc)], typer.echo)
        raise typer.Exit(1) from None
    rows = run_checks(cfg, timeout=timeout)
    render(rows, typer.echo)
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)
