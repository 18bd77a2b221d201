"""node.yaml → one frozen `NodeConfig`, checked once at start; errors name the bad key.

The retained config topic may replace the `sensors` list (and `status_every`) at run time; it goes
through the same `parse_sensors`, and the drivers are built before anything is swapped, so a bad
remote config is refused whole and the old one keeps running.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract.topics import is_slug
from edge.drivers import DRIVERS
from edge.drivers.options import ConfigError, Options
from ruongso.mqtt import MqttTarget, MqttUrlError, parse_mqtt_url

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6, "mib": 2**20,
               "g": 10**9, "gb": 10**9, "gib": 2**30}  # fmt: skip
MIN_INTERVAL_S = 0.1


@dataclass(frozen=True, slots=True)
class SensorConfig:
    name: str
    driver: str
    interval_s: float
    samples: int
    retries: int
    options: Mapping[str, Any]
    # Where it was configured, for error messages: "sensors[2] (do)".
    where: str = "sensors"


@dataclass(frozen=True, slots=True)
class MqttConfig:
    target: MqttTarget
    username: str
    password: str | None
    ca_file: str | None
    reconnect_max_s: float


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    path: Path
    max_bytes: int
    commit_every_s: float
    batch_size: int
    ack_timeout_s: float
    # "ack": keep readings until ingest's ack says they are in InfluxDB; "puback": until the broker has them.
    confirm: str


@dataclass(frozen=True, slots=True)
class ClockConfig:
    sync_file: Path | None
    boot_id_file: Path


@dataclass(frozen=True, slots=True)
class NodeConfig:
    site: str
    node: str
    mqtt: MqttConfig
    spool: SpoolConfig
    clock: ClockConfig
    sensors: tuple[SensorConfig, ...]
    status_every_s: float
    sys_root: Path
    # What the fleet registry says this node measures (from a `provisioned:` file), for `edge check`.
    expected_quantities: tuple[str, ...] = ()


def parse_size(value: object, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = _SIZE_RE.match(str(value)) if isinstance(value, str) else None
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise ConfigError(f"{path}: {value!r} is not a size like 64MB, 500kB or 1048576")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def _section(doc: Mapping[str, Any], key: str) -> Options:
    raw = doc.get(key, {}) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: must be a mapping, not {type(raw).__name__}")
    return Options(raw, key)


def parse_sensors(raw: object, path: str = "sensors", default_interval: object = "60s") -> tuple[SensorConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: must be a non-empty list of sensors")
    out: list[SensorConfig] = []
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a mapping with at least name and driver")
        values = dict(item)
        opts = Options(values, where)
        name = opts.text("name")
        if not is_slug(name):
            raise opts.error("name", f"{name!r} must be a slug (a-z, 0-9, '-')")
        where = f"{path}[{i}] ({name})"
        opts.path = where
        driver = opts.text("driver")
        if driver not in DRIVERS:
            raise opts.error("driver", f"unknown driver {driver!r}; known: {', '.join(DRIVERS)}")
        interval = opts.duration("interval", default_interval)
        if interval < MIN_INTERVAL_S:
            raise opts.error("interval", f"{interval} s is below the minimum {MIN_INTERVAL_S} s")
        samples = opts.integer("samples", 1, 1, 15)
        retries = opts.integer("retries", 2, 0, 10)
        common = {"name", "driver", "interval", "samples", "retries"}
        options = {k: v for k, v in values.items() if k not in common}
        out.append(SensorConfig(name, driver, interval, samples, retries, options, where))
    names = [s.name for s in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise ConfigError(f"{path}: sensor name {dup!r} is used twice")
    return tuple(out)


PROVISIONED_KEYS = {"site", "node", "mqtt_url", "username", "password", "interval_s", "sensors", "ca_file"}


def merge_provisioned(doc: dict[str, Any], base_dir: Path) -> tuple[dict[str, Any], tuple[str, ...], object]:
    """Fold in the file `ruongso node add` wrote (identity, broker, password; flat keys).

    Returns the merged document, the quantities the registry expects, and the default sensor interval.
    The node's own file still describes the hardware; its `mqtt:` keys win over the provisioned ones.
    """
    path = base_dir / str(doc["provisioned"])
    try:
        prov = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"provisioned: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"provisioned: {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(prov, dict) or not {"site", "node", "mqtt_url"} <= set(prov):
        raise ConfigError(f"provisioned: {path} is not a file from `ruongso node add` (site, node, mqtt_url, …)")
    unknown = sorted(set(map(str, prov)) - PROVISIONED_KEYS)
    if unknown:
        raise ConfigError(f"provisioned: unknown key(s) {', '.join(unknown)} in {path}")
    merged = {k: v for k, v in doc.items() if k != "provisioned"}
    for key in ("site", "node"):
        if key in doc and doc[key] != prov[key]:
            raise ConfigError(f"{key}: {doc[key]!r} here but {prov[key]!r} in the provisioned file {path}")
        merged[key] = prov[key]
    mqtt = {"url": prov["mqtt_url"]}
    for key in ("username", "password", "ca_file"):
        if prov.get(key) is not None:
            mqtt[key] = prov[key]
    mqtt.update(doc.get("mqtt") or {})
    merged["mqtt"] = mqtt
    expected = prov.get("sensors") or []
    if not isinstance(expected, list) or not all(isinstance(q, str) for q in expected):
        raise ConfigError(f"provisioned: sensors in {path} must be a list of quantity names")
    return merged, tuple(expected), prov.get("interval_s", "60s")


def parse_node_config(doc: object, base_dir: Path = Path(".")) -> NodeConfig:
    if not isinstance(doc, dict):
        raise ConfigError("the config file must be a YAML mapping (site:, node:, mqtt:, sensors: …)")
    expected: tuple[str, ...] = ()
    default_interval: object = "60s"
    if "provisioned" in doc:
        doc, expected, default_interval = merge_provisioned(doc, base_dir)
    known = {"site", "node", "mqtt", "spool", "clock", "sensors", "status_every", "sys_root", "provisioned"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}")
    top = Options(doc, "config")
    site, node = top.text("site"), top.text("node")
    for key, value in (("site", site), ("node", node)):
        if not is_slug(value):
            raise ConfigError(f"{key}: {value!r} must be a slug (a-z, 0-9, '-', 1-63 chars)")
    return NodeConfig(
        site=site,
        node=node,
        mqtt=_mqtt(_section(doc, "mqtt"), node, base_dir),
        spool=_spool(_section(doc, "spool"), base_dir),
        clock=_clock(_section(doc, "clock")),
        sensors=parse_sensors(doc.get("sensors"), default_interval=default_interval),
        status_every_s=top.duration("status_every", "60s"),
        sys_root=base_dir / top.text("sys_root", "/"),
        expected_quantities=expected,
    )


def _mqtt(o: Options, node: str, base_dir: Path) -> MqttConfig:
    url = o.text("url", "mqtt://localhost:1883")
    try:
        target = parse_mqtt_url(url)
    except MqttUrlError as exc:
        raise o.error("url", str(exc)) from None
    password = o.optional_str("password")
    password_file = o.optional_str("password_file")
    if password_file:
        path = base_dir / password_file
        try:
            password = path.read_text().strip()
        except OSError as exc:
            raise o.error("password_file", f"cannot read {path}: {exc.strerror}") from None
    ca_file = o.optional_str("ca_file")
    if ca_file:
        ca_path = base_dir / ca_file
        if not ca_path.is_file():
            raise o.error("ca_file", f"{ca_path} does not exist")
        if not target.tls:
            raise o.error("ca_file", "given, but the url is not mqtts:// (TLS)")
        ca_file = str(ca_path)
    username = o.text("username", target.username or node)
    cfg = MqttConfig(target, username, password or target.password, ca_file, o.duration("reconnect_max", "30s"))
    o.check_all_used()
    return cfg


def _spool(o: Options, base_dir: Path) -> SpoolConfig:
    cfg = SpoolConfig(
        path=base_dir / o.text("path", "/var/lib/ruongso-edge/spool.sqlite"),
        max_bytes=parse_size(o.raw("max_bytes", "64MB"), "spool.max_bytes"),
        commit_every_s=o.duration("commit_every", "5s"),
        batch_size=o.integer("batch_size", 250, 1, 1000),
        ack_timeout_s=o.duration("ack_timeout", "60s"),
        confirm=o.choice("confirm", ("ack", "puback"), "ack"),
    )
    if cfg.max_bytes < 64 * 1024:
        raise ConfigError(f"spool.max_bytes: {cfg.max_bytes} is below the minimum 64 kB")
    o.check_all_used()
    return cfg


def _clock(o: Options) -> ClockConfig:
    sync = o.optional_str("sync_file")
    cfg = ClockConfig(
        sync_file=Path(sync) if sync else None,
        boot_id_file=Path(o.text("boot_id_file", "/proc/sys/kernel/random/boot_id")),
    )
    o.check_all_used()
    return cfg


def load_node_config(path: Path) -> NodeConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse_node_config(doc, path.parent)


@dataclass(frozen=True, slots=True)
class RemoteConfig:
    """What the retained config topic may change without a restart."""

    sensors: tuple[SensorConfig, ...]
    status_every_s: float | None


def parse_remote_config(text: str) -> RemoteConfig:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config topic: not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise ConfigError("config topic: payload must be a mapping with `sensors:` (and optionally `status_every:`)")
    unknown = sorted(set(map(str, doc)) - {"sensors", "status_every"})
    if unknown:
        raise ConfigError(
            f"config topic: unknown key(s) {', '.join(unknown)} (only sensors, status_every may change remotely)"
        )
    every = Options(doc, "config topic").duration("status_every", None) if doc.get("status_every") is not None else None
    return RemoteConfig(parse_sensors(doc.get("sensors"), "config topic: sensors"), every)
