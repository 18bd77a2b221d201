"""`ruongso demo`: the main job shows live readings and leaves no process behind."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.waiting import wait_until


def _children_of_run(run_root: Path) -> list[str]:
    """Command lines of live processes that mention the demo's data folder or were started by it."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(run_root) in cmd:
            found.append(cmd)
    return found


@pytest.mark.slow
def test_demo_shows_live_readings_stores_every_one_and_stops_every_child(
    ruongso_cmd: list[str], tmp_path: Path
) -> None:
    data = tmp_path / "demo-data"
    out = subprocess.run(
        [*ruongso_cmd, "demo", "--minutes", "0.3", "--plain", "--speed", "30", "--sites", "7",
         "--data-dir", str(data), "--no-api"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # --no-api: no server, no token (tests/test_demo_api.py runs the demo with its API).
    assert "API" not in out.stdout and "rs_" not in out.stdout and "api:" not in out.stdout
    header = re.findall(r"(\d+) nút, (\d+) bản tin, (\d+) điểm trong InfluxDB", out.stdout)
    assert header, out.stdout
    nodes, messages, points = map(int, header[-1])
    assert nodes == 14 and messages > 0 and points > 0
    summary = re.search(r"(\d+) messages seen, (\d+) points stored in InfluxDB, (\d+) rejected", out.stdout)
    assert summary, out.stdout
    seen, stored, rejected = map(int, summary.groups())
    # No faults injected: every reading set the demo's own subscriber saw is one point, none lost.
    assert seen == stored >= points and rejected == 0
    assert _children_of_run(data) == []
    assert list(data.iterdir()) == []  # the run's folder is removed unless --keep-data


def test_without_the_server_extra_the_demo_runs_without_its_api(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ruongso import demo as demo_module

    monkeypatch.setattr(demo_module, "_available", lambda module: module != "fastapi")
    opts = demo_module.DemoOptions(0.1, 1, 1, 10.0, 1.0, "", 1, tmp_path, False, True)
    demo = demo_module.Demo(opts)
    demo.run_dir.mkdir(parents=True)
    assert demo._start_api() is None and demo.children == [] and demo.api is None
    assert demo.api_missing is not None and "ruongso[server]" in demo.api_missing
    assert not (demo.run_dir / "registry.db").exists()


@pytest.mark.slow
def test_a_demo_killed_outright_takes_its_services_with_it(ruongso_cmd: list[str], tmp_path: Path) -> None:
    data = tmp_path / "demo-data"
    demo = subprocess.Popen(
        [*ruongso_cmd, "demo", "--plain", "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # The simulator starts last, once ingest is subscribed: then every child is up.
        wait_until(lambda: list(data.glob("run-*/sim.log")), 60, what="the demo's children to start")
        wait_until(lambda: len(_children_of_run(data)) >= 4, 30, what="broker, database, ingest, sim running")
        wait_until(lambda: any(" api serve " in c for c in _children_of_run(data)), 30, what="the API running")
    finally:
        demo.kill()  # as a closed terminal or an OOM kill would: no chance to clean up
        demo.wait(10)
    wait_until(lambda: _children_of_run(data) == [], 20, what="every child of the killed demo to exit")
