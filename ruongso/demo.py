"""The local farm behind `ruongso demo`.

Everything runs as child processes that meet only through MQTT and InfluxDB, exactly as in a
deployment: a private Mosquitto and InfluxDB (data in a folder of the run), `ruongso sim`,
`ruongso ingest` and, when installed, `ruongso analytics run` and `ruongso api serve` (over a throwaway
registry of the simulated farm, ruongso/demo_api.py). The demo itself is one more MQTT subscriber that
shows the latest readings per node and prints alerts as they arrive.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from contract import topics
from contract.alerts import AlertEvent, decode_alert
from contract.wire import Reading, WireError, decode_telemetry
from ruongso import profiles
from ruongso.influx import InfluxClient, InfluxError
from ruongso.local_services import Influxd, Mosquitto, ServiceError, die_with_parent, free_port
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

if TYPE_CHECKING:
    from ruongso.demo_api import DemoApi
    from ruongso.demo_screen import Screen

DB = "farm"


class DemoError(RuntimeError):
    pass


@dataclass(frozen=True)
class DemoOptions:
    minutes: float | None
    sites: int
    nodes_per_site: int
    interval: float
    speed: float
    faults: str
    seed: int
    data_dir: Path
    keep_data: bool
    plain: bool
    api: bool = True


@dataclass
class NodeView:
    site: str
    node: str
    reading: Reading
    seen_at: float


@dataclass
class FarmView:
    """What the demo's own MQTT subscriber has seen; written by paho's thread, read by the screen."""

    nodes: dict[tuple[str, str], NodeView] = field(default_factory=dict)
    alerts: list[AlertEvent] = field(default_factory=list)
    messages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, topic: str, payload: bytes) -> AlertEvent | None:
        try:
            if topic.endswith("/alerts"):
                event = decode_alert(payload)
                with self.lock:
                    self.alerts.append(event)
                return event
            t = topics.NodeTopic.parse(topic)
            decoded = decode_telemetry(payload, t.node)
        except (WireError, topics.TopicError):
            return None  # ingest counts and reports bad messages; the view just skips them
        with self.lock:
            self.messages += 1
            for r in decoded.readings:
                prev = self.nodes.get((t.site, t.node))
                if prev is None or r.ts >= prev.reading.ts:
                    self.nodes[(t.site, t.node)] = NodeView(t.site, t.node, r, time.monotonic())
        return None


class Child:
    """A `ruongso <part>` child process with its output in a log file of the run."""

    def __init__(self, name: str, args: list[str], run_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self._terminated = False
        self.log_path = run_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ruongso", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            # A demo killed outright (terminal closed, kill -9) must not leave its services running.
            preexec_fn=die_with_parent,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 8) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def terminate(self) -> None:
        # Once only: a second SIGTERM may cut a graceful shutdown short (uvicorn forces its exit).
        if self.proc.poll() is None and not self._terminated:
            self._terminated = True
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def api_available() -> bool:
    """`ruongso api serve` needs the `server` extra (FastAPI, uvicorn); without it the demo runs without API."""
    return all(_available(m) for m in ("api.app", "fastapi", "uvicorn"))


class Demo:
    def __init__(self, opts: DemoOptions) -> None:
        self.opts = opts
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = (opts.data_dir / f"run-{stamp}").resolve()
        self.view = FarmView()
        self.children: list[Child] = []
        self.services: list[Mosquitto | Influxd] = []
        self.manifest: dict[str, Any] = {}
        self.stop_event = threading.Event()
        self.screen: Screen | None = None
        self.api: DemoApi | None = None
        # Why the API is not running although asked for (shown once), or None.
        self.api_missing: str | None = None

    # --- start and stop ------------------------------------------------------------------------

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.broker = Mosquitto(self.run_dir / "mosquitto")
            self.broker.start()
            self.services.append(self.broker)
            self.influxd = Influxd(self.run_dir / "influxd")
            self.influxd.start()
            self.services.append(self.influxd)
        except ServiceError as exc:
            raise DemoError(str(exc)) from None
        self.influx = InfluxClient(self.influxd.url, DB)
        self.influx.create_database()
        self._subscribe()
        common = ["--mqtt-url", self.broker.url]
        self.children.append(
            Child("ingest", ["ingest", *common, "--influx-url", self.influxd.url, "--influx-db", DB,
                             "--state-dir", str(self.run_dir / "ingest"), "--metrics-port", "0"], self.run_dir)
        )
        if _available("analytics.cli"):
            self.children.append(
                Child("analytics", ["analytics", "run", *common, "--influx-url", self.influxd.url,
                                    "--influx-db", DB, "--state-file", str(self.run_dir / "analytics-state.json")],
                      self.run_dir)
            )
        api = self._start_api() if self.opts.api else None
        self._wait_for_log(self.children[0], "mqtt_subscribed")
        sim = Child("sim", self._sim_args(), self.run_dir)
        self.children.append(sim)
        if api is not None:
            self._register_farm_and_wait_for_api(*api, sim)

    def _start_api(self) -> tuple[DemoApi, Child] | None:
        """Started early, beside ingest: it imports FastAPI while the rest comes up."""
        if not api_available():
            self.api_missing = "API off: the server extra is not installed (pip install 'ruongso[server]')"
            return None
        from registry.db import RegistryError
        from ruongso import demo_api

        try:
            registry_url, token = demo_api.create_registry(self.run_dir / "registry.db")
        except (RegistryError, OSError) as exc:
            raise DemoError(f"cannot create the demo's registry: {exc}") from None
        port = free_port()
        api = demo_api.DemoApi(f"http://127.0.0.1:{port}", token, registry_url)
        child = Child(
            "api",
            ["api", "serve", "--host", "127.0.0.1", "--port", str(port), "--registry", registry_url,
             "--influx-url", self.influxd.url, "--influx-db", DB, "--mqtt-url", self.broker.url],
            self.run_dir, env=demo_api.api_env(),
        )
        self.children.append(child)
        return api, child

    def _register_farm_and_wait_for_api(self, api: DemoApi, api_child: Child, sim: Child,
                                        timeout: float = 60.0) -> None:
        from registry.db import RegistryError
        from ruongso import demo_api

        try:
            self.manifest = demo_api.read_manifest(self.run_dir / "sites.json", sim.alive)
            demo_api.register_farm(api.registry_url, self.manifest, self.opts.interval)
        except RegistryError as exc:
            if not sim.alive():
                raise DemoError(f"sim stopped at start:\n{sim.tail()}") from None
            raise DemoError(f"cannot register the simulated farm for the API: {exc}\n{sim.tail()}") from None
        deadline = time.monotonic() + timeout
        while not demo_api.answers_health(api.url):
            if not api_child.alive():
                raise DemoError(f"the API stopped at start (run with --no-api to do without):\n{api_child.tail()}")
            if time.monotonic() > deadline:
                raise DemoError(f"the API did not answer {api.url}/healthz within {timeout:.0f} s:\n{api_child.tail()}")
            time.sleep(0.2)
        self.api = api

    @staticmethod
    def _wait_for_log(child: Child, word: str, timeout: float = 30.0) -> None:
        """Readings published before ingest subscribes would reach nobody: wait for it to say so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if word in child.tail(50):
                return
            if not child.alive():
                raise DemoError(f"{child.name} stopped at start:\n{child.tail()}")
            time.sleep(0.1)
        raise DemoError(f"{child.name} did not report {word!r} within {timeout:.0f} s:\n{child.tail()}")

    def _sim_args(self) -> list[str]:
        o = self.opts
        args = ["sim", "--mqtt-url", self.broker.url, "--sites", str(o.sites), "--nodes-per-site",
                str(o.nodes_per_site), "--interval", str(o.interval), "--seed", str(o.seed),
                "--manifest", str(self.run_dir / "sites.json"), "--truth", str(self.run_dir / "faults.jsonl")]
        if o.faults:
            args += ["--faults", o.faults]
        if o.minutes is None:
            return [*args, "--duration", "3650d", "--speed", "1"]
        span_s = o.minutes * 60 * o.speed
        # Simulated time ends now: a fast run fills the past, never the future ingest would refuse.
        start_ms = int((time.time() - span_s) * 1000) if o.speed > 1 else int(time.time() * 1000)
        return [*args, "--duration", f"{span_s:.0f}", "--speed", f"{o.speed:g}", "--start", str(start_ms)]

    def _subscribe(self) -> None:
        target = parse_mqtt_url(self.broker.url)
        self.client = make_client(target, client_id="ruongso-demo-view")
        self.client.on_message = lambda c, u, msg: self._on_message(msg.topic, bytes(msg.payload))

        def on_connect(c: Any, u: Any, f: Any, rc: Any, p: Any = None) -> None:
            c.subscribe([(topics.ALL_TELEMETRY, 0), (topics.ALL_ALERTS, 1)])

        self.client.on_connect = on_connect
        connect_and_wait(self.client, target)

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            event = self.view.on_message(topic, payload)
            if event is not None and self.screen is not None:
                self.screen.alert(event)
        except Exception:
            return

    def stop_children(self) -> list[Child]:
        """Stop producers first, so ingest can flush what it has; return the children that failed."""
        failed = [c for c in self.children if not c.alive() and c.proc.returncode != 0]
        producers = [c for c in self.children if c.name == "sim"]
        for child in producers:
            child.stop()
        if self.services:
            self._wait_for_ingest_to_catch_up()
        rest = [c for c in self.children if c not in producers]
        # Signalled together, they shut down side by side: the demo stops as fast as its slowest child.
        for child in rest:
            child.terminate()
        for child in rest:
            child.stop()
        with contextlib.suppress(Exception):
            self.client.loop_stop()
            self.client.disconnect()
        return failed

    def _wait_for_ingest_to_catch_up(self, quiet_s: float = 1.5, limit_s: float = 15.0) -> None:
        """What the broker still holds for ingest would die with the demo's broker: let it drain first."""
        deadline = time.monotonic() + limit_s
        last, since = -2, time.monotonic()
        while time.monotonic() < deadline:
            now = self.stored_points()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.25)

    def stop_services(self) -> None:
        with contextlib.suppress(Exception):
            self.influx.close()
        for svc in reversed(self.services):
            svc.stop()
        if not self.opts.keep_data:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- figures from InfluxDB -----------------------------------------------------------------

    def stored_points(self) -> int:
        try:
            return self.influx.count_points("reading")
        except InfluxError:
            return -1

    def rejects_by_reason(self) -> Counter[str]:
        out: Counter[str] = Counter()
        try:
            for s in self.influx.query('SELECT sum("count") FROM "rejected" GROUP BY "reason"'):
                out[s.tags.get("reason", "?")] += int(s.values[0][1])
        except InfluxError:
            pass
        return out

    def load_manifest(self) -> None:
        path = self.run_dir / "sites.json"
        if not self.manifest and path.exists():
            with contextlib.suppress(ValueError, OSError):
                self.manifest = json.loads(path.read_text())

    def site_label(self, site: str) -> str:
        for s in self.manifest.get("sites", []):
            if s.get("site") == site:
                try:
                    kind = profiles.profile(s.get("profile", ""))["name_vi"]
                except KeyError:
                    kind = s.get("profile", "?")
                return f"{s.get('name_vi', site)} — {kind}"
        return site


def run_demo(opts: DemoOptions) -> None:
    from ruongso.demo_screen import make_screen

    demo = Demo(opts)
    demo.screen = make_screen(demo, plain=opts.plain)
    deadline = None if opts.minutes is None else time.monotonic() + opts.minutes * 60
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: demo.stop_event.set())
    failed: list[Child] = []
    try:
        demo.start()
        demo.screen.services_ready()
        demo.screen.run(deadline)
    except KeyboardInterrupt:
        pass
    finally:
        failed = demo.stop_children()
        started = len(demo.services) == 2
        points = demo.stored_points() if started else 0
        rejects = demo.rejects_by_reason() if started else Counter()
        demo.stop_services()
    demo.screen.summary(points, rejects, failed)
