"""`ruongso sim`: simulated sensor nodes for every production type, with fault injection.

Only typer and the stdlib are imported here; the farm and paho load when the command runs.
Every option is parsed by hand so a bad value gives one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer

EXIT_USAGE = 2
EXIT_RUNTIME = 1


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    typer.echo(f"ruongso sim: error: {message}", err=True)
    raise typer.Exit(code)


def _int(name: str, text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        _fail(f"{name} {text!r} is not a whole number")
    if value < minimum:
        _fail(f"{name} must be at least {minimum}, not {value}")
    return value


def _float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        _fail(f"{name} {text!r} is not a number")
    if not math.isfinite(value):
        _fail(f"{name} {text!r} is not a finite number")
    return value


def _speed(text: str) -> float:
    if text.strip().lower() in ("max", "inf"):
        return math.inf
    value = _float("--speed", text)
    if value <= 0:
        _fail(f"--speed must be above 0 (or 'max'), not {text}")
    return value


def _start(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text == "now":
        return int(time.time() * 1000)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--start {text!r} is neither epoch milliseconds nor an ISO date-time like 2025-06-01T00:00+07:00")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _sigterm_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def command(
    mqtt_url: str = typer.Option("mqtt://127.0.0.1:1883", metavar="URL", envvar="RUONGSO_MQTT_URL", help="Broker URL."),
    sites: str = typer.Option("1", metavar="N", help="Number of sites."),
    nodes_per_site: str = typer.Option("2", metavar="N", help="Nodes per site."),
    interval: str = typer.Option("60", metavar="SECONDS", help="Seconds between a node's reading sets."),
    duration: str | None = typer.Option(
        None,
        metavar="DURATION",
        help="Simulated time to cover: seconds or 90m, 2h, 7d. Default: until Ctrl-C at --speed 1, else 1h.",
    ),
    profile: str | None = typer.Option(
        None, metavar="ID", help="One profile id for every site (default: cycle through all)."
    ),
    seed: str = typer.Option("0", metavar="N", help="Seed: the same seed gives the same messages."),
    speed: str = typer.Option(
        "1", metavar="X|max", help="Simulated time runs this many times faster ('max': flat out)."
    ),
    start: str | None = typer.Option(
        None,
        metavar="TIME",
        help="First simulated instant (epoch ms, ISO or now). Default: now at speed 1, else now − duration.",
    ),
    faults: str = typer.Option("", metavar="KINDS", help="Fault kinds to inject, comma-separated, or 'all'."),
    fault_rate: str = typer.Option("0.005", metavar="P", help="Chance per reading set that a fault starts."),
    truth: Path | None = typer.Option(None, metavar="PATH", help="Write the injected faults here (JSON lines)."),
    manifest: Path | None = typer.Option(None, metavar="PATH", help="Write the simulated sites and nodes here (JSON)."),
    batch: str = typer.Option(
        "0", metavar="N", help="Send reading sets in store-and-forward batches of this many (0: one by one)."
    ),
    site_prefix: str = typer.Option("", metavar="SLUG", help="Prefix for site slugs, e.g. a test's own namespace."),
    status: bool = typer.Option(
        False, "--status", help="Also publish each node's retained status: online, offline in dropouts and at exit."
    ),
) -> None:
    """Simulated sensor nodes with fault injection."""
    from ruongso.durations import parse_duration

    n_sites = _int("--sites", sites, 1)
    n_nodes = _int("--nodes-per-site", nodes_per_site, 1)
    interval_s = _float("--interval", interval)
    rate = _float("--fault-rate", fault_rate)
    seed_value = _int("--seed", seed, 0)
    speed_value = _speed(speed)
    batch_value = _int("--batch", batch, 0)
    duration_s: float | None = None
    if duration is not None:
        try:
            duration_s = parse_duration(duration)
        except ValueError as exc:
            _fail(f"--duration: {exc}")
    elif speed_value > 1:
        duration_s = 3600.0
    now_ms = int(time.time() * 1000)
    if start is not None:
        start_ms = _start(start)
    elif speed_value > 1 and duration_s is not None:
        # Backfill: end near now, since ingest refuses timestamps more than 5 minutes ahead.
        step = max(1, round(interval_s * 1000))
        start_ms = (now_ms - int(duration_s * 1000)) // step * step
    else:
        start_ms = now_ms
    _warn_if_ahead(start_ms, duration_s, speed_value, now_ms)
    _run(
        mqtt_url=mqtt_url,
        config=dict(
            start_ms=start_ms,
            duration_s=duration_s,
            interval_s=interval_s,
            sites=n_sites,
            nodes_per_site=n_nodes,
            profile=profile,
            seed=seed_value,
            faults=faults,
            fault_rate=rate,
            batch=batch_value,
            site_prefix=site_prefix,
            status=status,
        ),
        speed=speed_value,
        truth=truth,
        manifest=manifest,
    )


def _warn_if_ahead(start_ms: int, duration_s: float | None, speed: float, now_ms: int) -> None:
    """Ingest refuses readings more than 5 minutes ahead of its clock: say so before sending them."""
    span_ms = (duration_s or 0.0) * 1000
    ahead_ms = max(start_ms - now_ms, start_ms + span_ms - (now_ms + span_ms / speed))
    if ahead_ms > 300_000:
        typer.echo(
            f"ruongso sim: warning: timestamps run up to {ahead_ms / 60_000:.0f} min ahead of the clock; "
            "ingest refuses readings more than 5 min in the future",
            err=True,
        )


def _run(*, mqtt_url: str, config: dict[str, Any], speed: float, truth: Path | None, manifest: Path | None) -> None:
    from ruongso.logs import configure
    from ruongso.mqtt import MqttUrlError, parse_mqtt_url
    from simulators.farm import Farm, FarmConfig
    from simulators.publisher import PublishError, publish_farm
    from simulators.truth import TruthFile

    try:
        target = parse_mqtt_url(mqtt_url)
    except MqttUrlError as exc:
        _fail(str(exc))
    try:
        farm = Farm(FarmConfig(**config))
    except ValueError as exc:
        _fail(str(exc).splitlines()[0])
    configure()
    try:
        if manifest is not None:
            manifest.write_text(json.dumps(farm.manifest(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write --manifest {manifest}: {exc.strerror}")
    truth_file: TruthFile | None = None
    try:
        if truth is not None:
            truth_file = TruthFile(truth)  # opened now: fail before the run, not after it
            farm.on_truth = truth_file.write
    except OSError as exc:
        _fail(f"cannot write --truth {truth}: {exc.strerror}")
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        result = publish_farm(farm, target, speed=speed)
    except (ConnectionError, PublishError) as exc:
        _finish_truth(farm, truth_file)
        _fail(str(exc), EXIT_RUNTIME)
    except KeyboardInterrupt:
        # A second Ctrl-C while waiting for the broker's acknowledgements: stop without them.
        _finish_truth(farm, truth_file)
        _fail("interrupted before every message was acknowledged", 130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _finish_truth(farm, truth_file)
    faults = ",".join(f"{k}:{v}" for k, v in sorted(result.faults.items())) or "none"
    nodes = sum(len(s.nodes) for s in farm.sites)
    rate = result.messages / result.seconds if result.seconds > 0 else 0.0
    typer.echo(
        f"sim {'interrupted' if result.interrupted else 'done'}: reading_sets={result.reading_sets} "
        f"messages={result.messages} statuses={result.statuses} faults={faults} sites={len(farm.sites)} nodes={nodes} "
        f"wall={result.seconds:.1f}s rate={rate:.0f}/s"
    )
    sys.stdout.flush()


def _finish_truth(farm: Any, truth_file: Any) -> None:
    if truth_file is None:
        return
    farm.close()
    try:
        truth_file.finish(farm.truth)
    except OSError as exc:
        _fail(f"cannot write --truth {truth_file.path}: {exc.strerror}", EXIT_RUNTIME)
