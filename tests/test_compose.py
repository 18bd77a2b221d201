"""docker-compose.yml, Dockerfile, .env.example and the Mosquitto files, checked without a Docker engine:
parsed, cross-checked against the `ruongso` command and the settings models, Mosquitto's config run for real."""

from __future__ import annotations

import getpass
import importlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
import yaml
from pydantic_settings import BaseSettings
from typer.main import get_command

from dashboards.model import DATASOURCE_UID
from ruongso import cli
from ruongso.local_services import Mosquitto, free_port
from ruongso.settings import ServiceSettings
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
RUONGSO = {name: s for name, s in SERVICES.items() if s.get("command", [None])[0] == "ruongso"}
INTERP_RE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
# What an operator would put in .env for the required values that are not secrets.
STAND_INS = {"NODE_MQTT_URL": "mqtt://farm.example.vn:1883", "PUBLIC_API_URL": "https://farm.example.vn"}


def interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` / `${VAR:?error}` with .env left empty: defaults, and a stand-in for secrets."""
    def one(m: re.Match[str]) -> str:
        op, arg = m.group(2), m.group(3)
        return arg if op in (":-", "-") else STAND_INS.get(m.group(1), "s3cret")
    return INTERP_RE.sub(one, value).replace("$$", "$")


def container_ports(service: dict[str, Any]) -> set[int]:
    ports = {int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in service.get("ports", [])}
    return ports | {int(str(p)) for p in service.get("expose", [])}


def test_every_service_the_issue_asks_for_is_there() -> None:
    assert {"mosquitto", "influxdb", "grafana", "ingest", "analytics", "notify", "api", "sim"} <= set(SERVICES)
    assert SERVICES["sim"]["profiles"] == ["sim"]
    assert all("profiles" not in s for n, s in SERVICES.items() if n != "sim"), "only the simulator is optional"


@pytest.mark.parametrize("name", ["mosquitto", "influxdb", "grafana"])
def test_third_party_images_are_pinned(name: str) -> None:
    image = SERVICES[name]["image"]
    repo, _, tag = image.rpartition(":")
    assert repo and re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{name}: {image} must name an exact x.y.z version"
    if name == "influxdb":
        assert tag.startswith("1."), "the pipeline speaks the InfluxDB 1.x API"


def _command_path(args: list[str]) -> tuple[list[str], Any]:
    # Typer vendors its own click: groups are recognised by their `commands`, not by class.
    cmd: Any = get_command(cli.app)
    path = ["ruongso"]
    for word in args[1:]:
        if word.startswith("-") or not hasattr(cmd, "commands"):
            break
        sub = cmd.commands.get(word)
        if sub is None:
            known = ", ".join(sorted(cmd.commands))
            pytest.fail(f"'{' '.join([*path, word])}' is not a ruongso subcommand (known: {known})", pytrace=False)
        cmd, path = sub, [*path, word]
    return path, cmd


@pytest.mark.parametrize("name", sorted(RUONGSO))
def test_the_service_command_is_a_real_ruongso_subcommand(name: str) -> None:
    args = RUONGSO[name]["command"]
    part = args[1]
    entry = next((p for p in cli.PARTS if p[0] == part), None)
    if entry is None:
        pytest.fail(f"service {name}: 'ruongso {part}' is not registered in PARTS of ruongso/cli.py", pytrace=False)
    try:
        importlib.import_module(entry[1])
    except ImportError as exc:
        pytest.fail(f"service {name}: 'ruongso {part}' is registered but {entry[1]} cannot be imported: {exc}",
                    pytrace=False)
    path, cmd = _command_path(args)
    if hasattr(cmd, "commands") and not getattr(cmd, "invoke_without_command", False):
        pytest.fail(f"service {name}: '{' '.join(path)}' needs a subcommand ({', '.join(sorted(cmd.commands))})",
                    pytrace=False)
    options = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    unknown = [a.split("=")[0] for a in args if a.startswith("--") and a.split("=")[0] not in options]
    assert not unknown, f"service {name}: '{' '.join(path)}' has no option {unknown}"


def _settings_classes(name: str) -> list[type[BaseSettings]]:
    """The settings models of the part that serves this compose service (ServiceSettings at least)."""
    module = next(p[1] for p in cli.PARTS if p[0] == RUONGSO[name]["command"][1])
    package = module.split(".")[0]
    try:
        mod = importlib.import_module(f"{package}.settings")
    except ImportError:
        return [ServiceSettings]
    found = [v for v in vars(mod).values()
             if isinstance(v, type) and issubclass(v, ServiceSettings) and v.__module__ == mod.__name__]
    return found or [ServiceSettings]


@pytest.mark.parametrize("name", sorted(RUONGSO))
def test_env_names_and_values_fit_the_settings_model(name: str) -> None:
    env = {k: interpolate(str(v)) for k, v in RUONGSO[name].get("environment", {}).items()}
    assert env, f"{name} has no environment"
    ours = {k: v for k, v in env.items() if k.startswith("RUONGSO_")}
    assert ours.keys() == env.keys(), f"{name}: every variable is a RUONGSO_* setting"
    try:
        classes = _settings_classes(name)
    except StopIteration:
        pytest.fail(f"service {name}: its part is not registered in PARTS yet", pytrace=False)
    fields = {f"RUONGSO_{f.upper()}" for c in classes for f in c.model_fields}
    unknown = sorted(set(ours) - fields)
    assert not unknown, f"{name}: {unknown} are not fields of {[c.__name__ for c in classes]}"
    cls = classes[-1] if len(classes) == 1 else max(classes, key=lambda c: len(c.__mro__))
    values = {k.removeprefix("RUONGSO_").lower(): v for k, v in ours.items()}
    cls(**{k: v for k, v in values.items() if k in cls.model_fields})  # the values validate too


@pytest.mark.parametrize("name", sorted(RUONGSO))
def test_service_urls_point_at_compose_services_and_their_ports(name: str) -> None:
    env = {k: interpolate(str(v)) for k, v in RUONGSO[name]["environment"].items()}
    influx = urlsplit(env["RUONGSO_INFLUX_URL"])
    assert influx.hostname == "influxdb" and influx.port == 8086
    assert 8086 in container_ports(SERVICES["influxdb"])
    if "RUONGSO_MQTT_URL" in env:
        mqtt_url = urlsplit(env["RUONGSO_MQTT_URL"])
        assert mqtt_url.hostname == "mosquitto" and mqtt_url.port == 1883
        assert mqtt_url.username == name, "each service has its own broker account, named after it"
    mqtt_args = [a for a in RUONGSO[name]["command"] if a.startswith("mqtt://")]
    for a in mqtt_args:
        assert urlsplit(interpolate(a)).hostname == "mosquitto"


def test_mosquitto_listens_where_the_services_connect() -> None:
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    assert re.search(r"^listener 1883$", conf, re.M)
    assert 1883 in container_ports(SERVICES["mosquitto"])


@pytest.mark.parametrize(("name", "setting"), [("api", "RUONGSO_API_PORT"), ("ingest", "RUONGSO_METRICS_PORT")])
def test_service_ports_agree_with_settings_and_health_checks(name: str, setting: str) -> None:
    port = int(RUONGSO[name]["environment"][setting])
    assert port in container_ports(RUONGSO[name])
    assert f"127.0.0.1:{port}/" in " ".join(RUONGSO[name]["healthcheck"]["test"])
    if name == "api":
        assert RUONGSO[name]["environment"]["RUONGSO_API_HOST"] == "0.0.0.0", "reachable from outside the container"


def test_long_running_services_restart_and_infrastructure_has_health_checks() -> None:
    for name, s in SERVICES.items():
        assert s.get("restart") == "unless-stopped", f"{name} has no restart policy"
    for name in ("mosquitto", "influxdb", "grafana", "ingest", "api"):
        assert "healthcheck" in SERVICES[name], f"{name} has no health check"
    for name in RUONGSO:
        deps = RUONGSO[name]["depends_on"]
        assert deps["influxdb"]["condition"] == deps["mosquitto"]["condition"] == "service_healthy"


def _mounts() -> list[tuple[str, str, str]]:
    out = []
    for name, s in SERVICES.items():
        for v in s.get("volumes", []):
            source, target = v.split(":")[:2]
            out.append((name, source, target))
    return out


def test_every_mounted_file_exists_in_the_repo_and_named_volumes_are_declared() -> None:
    for name, source, _target in _mounts():
        if source.startswith("."):
            assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repo"
        else:
            assert source in COMPOSE["volumes"], f"{name} uses undeclared volume {source}"


def test_state_lives_on_volumes() -> None:
    targets = {(n, t) for n, s, t in _mounts() if not s.startswith(".")}
    for need in [("mosquitto", "/mosquitto/data"), ("influxdb", "/var/lib/influxdb"), ("grafana", "/var/lib/grafana"),
                 ("ingest", "/var/lib/ruongso/ingest"), ("api", "/var/lib/ruongso/registry")]:
        assert need in targets, f"{need[0]} keeps {need[1]} in the container only"


def test_influxdb_has_auth_on_and_grafana_takes_its_admin_password_from_env() -> None:
    env = SERVICES["influxdb"]["environment"]
    assert env["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    assert ":?" in SERVICES["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]


def test_every_variable_is_in_env_example_and_no_secret_has_a_usable_default() -> None:
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    used = {m.group(1) for m in INTERP_RE.finditer((ROOT / "docker-compose.yml").read_text())}
    assert used <= example.keys(), f"missing from .env.example: {sorted(used - example.keys())}"
    secrets = [k for k in example if re.search(r"PASSWORD|SECRET|TOKEN", k)]
    assert secrets and all(example[k] == "" for k in secrets), "secrets in .env.example must be empty"
    text = (ROOT / "docker-compose.yml").read_text()
    for k in secrets:
        assert not re.search(rf"\$\{{{k}:-[^}}]", text), f"{k} has a default in docker-compose.yml"


def test_grafana_provisioning_is_mounted_and_agrees_with_the_boards() -> None:
    targets = {t: s for n, s, t in _mounts() if n == "grafana"}
    provisioning = ROOT / targets["/etc/grafana/provisioning"]
    ds = yaml.safe_load((provisioning / "datasources/influxdb.yaml").read_text())["datasources"]
    assert [d["uid"] for d in ds] == [DATASOURCE_UID]
    assert ds[0]["type"] == "influxdb" and ds[0]["jsonData"]["version"] == "InfluxQL"
    env = SERVICES["grafana"]["environment"]
    text = (provisioning / "datasources/influxdb.yaml").read_text()
    for var in re.findall(r"\$\{(\w+)\}", text):
        assert var in env, f"the data source needs {var} in grafana's environment"
    provider = yaml.safe_load((provisioning / "dashboards/ruongso.yaml").read_text())["providers"][0]
    path = provider["options"]["path"]
    assert targets[path] == "./deploy/grafana/dashboards"
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "deploy/grafana/dashboards" / Path(home).name).exists()


def test_dockerfile_copies_only_what_exists_and_builds_every_package() -> None:
    text = (ROOT / "Dockerfile").read_text()
    sources = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    for group in sources:
        for src in group:
            assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not in the repo"
    copied = {s for g in sources for s in g}
    pyproject = (ROOT / "pyproject.toml").read_text()
    packages = re.search(r"\[tool\.setuptools\.packages\.find\].*?include = \[(.*?)\]", pyproject, re.S)
    assert packages, "pyproject.toml should list the shipped packages under [tool.setuptools.packages.find]"
    shipped = re.findall(r'"(\w+)\*"', packages.group(1))
    assert len(shipped) >= 10, shipped
    for pkg in shipped:
        assert pkg in copied, f"package {pkg} is not copied into the image"
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignore, "secrets must never reach the build context"


@pytest.fixture
def compose_mosquitto(tmp_path: Path) -> Mosquitto:
    """The repo's mosquitto.conf with container paths moved under tmp_path and free ports."""
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    ports = {"1883": free_port(), "1880": free_port()}
    for d in ("auth", "data", "config", "run"):
        (tmp_path / d).mkdir()
    (tmp_path / "auth/passwd").write_text("")
    (tmp_path / "auth/acl").write_text("")
    (tmp_path / "config/health.acl").write_text((ROOT / "deploy/mosquitto/health.acl").read_text())
    conf = conf.replace("/run/mosquitto/", f"{tmp_path}/run/").replace("/mosquitto/", f"{tmp_path}/")
    conf = re.sub(r"^listener (\d+)", lambda m: f"listener {ports[m.group(1)]}", conf, flags=re.M)
    conf = conf.replace("log_dest stdout", "log_dest stderr") + f"user {getpass.getuser()}\n"
    svc = Mosquitto(tmp_path / "run", port=ports["1883"])
    svc.write_conf = lambda: svc.conf_path.write_text(conf)  # type: ignore[method-assign]
    svc.health_port = ports["1880"]  # type: ignore[attr-defined]
    return svc


def _connect_code(port: int) -> int:
    result: list[int] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_connect = lambda _c, _u, _f, rc, _p: result.append(int(rc.value))
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        wait_until(lambda: result, 10, what="CONNACK")
    finally:
        c.loop_stop()
        c.disconnect()
    return result[0]


def test_mosquitto_config_runs_health_listener_answers_and_anonymous_nodes_are_refused(
    compose_mosquitto: Mosquitto,
) -> None:
    with compose_mosquitto:
        assert _connect_code(compose_mosquitto.health_port) == 0  # type: ignore[attr-defined]
        assert _connect_code(compose_mosquitto.port) != 0, "the node listener must refuse anonymous clients"
        got: list[bytes] = []
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        c.on_message = lambda _c, _u, m: got.append(m.payload)
        c.on_connect = lambda cl, _u, _f, _rc, _p: cl.subscribe("$SYS/broker/uptime")
        c.connect("127.0.0.1", compose_mosquitto.health_port)  # type: ignore[attr-defined]
        c.loop_start()
        try:
            wait_until(lambda: got, 20, what="$SYS/broker/uptime on the health listener")
        finally:
            c.loop_stop()
            c.disconnect()
