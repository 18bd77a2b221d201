"""`ruongso site set|show` on a real SQLite registry: set and clear stage, TAN test and outdoor node; bad input is
one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry import credentials, nodes
from registry.db import open_registry
from registry.site_cli import app
from registry.sites import add_site, get_site

ICT = timezone(timedelta(hours=7))


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    conn = open_registry(url)
    add_site(conn, "ruong-ba", "Ruộng ông Ba", "rice_paddy")
    add_site(conn, "ao-tu", "Ao bà Tư", "fish_pond")
    add_site(conn, "trai-ga", "Trại gà", "poultry_barn")
    for site, node in (("trai-ga", "chuong-1"), ("trai-ga", "ngoai-troi"), ("ao-tu", "phao-1")):
        nodes.add_node(conn, site, node, credentials.hash_password("unused"))
    conn.close()
    return url


def _site(url: str, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--registry", url])
    # A traceback would come out of the runner as an exception other than the exit.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_set_and_clear_the_stage_and_outdoor_node(url: str) -> None:
    code, out, _ = _site(url, ["set", "ruong-ba", "--stage", "tillering"])
    assert code == 0 and out == "site ruong-ba: stage tillering, TAN -, outdoor node -\n"
    assert _site(url, ["set", "trai-ga", "--outdoor-node", "ngoai-troi"])[0] == 0
    conn = open_registry(url)
    assert (get_site(conn, "ruong-ba").stage, get_site(conn, "trai-ga").outdoor_node) == ("tillering", "ngoai-troi")

    assert _site(url, ["set", "ruong-ba", "--clear", "stage"])[0] == 0
    assert _site(url, ["set", "trai-ga", "--clear", "outdoor-node"])[0] == 0
    assert (get_site(conn, "ruong-ba").stage, get_site(conn, "trai-ga").outdoor_node) == (None, None)


def test_a_tan_test_keeps_its_time_and_show_says_when_it_is_too_old(url: str) -> None:
    ten_days_ago = (datetime.now(ICT) - timedelta(days=10)).replace(second=0, microsecond=0)
    when = ten_days_ago.isoformat(timespec="minutes")
    code, out, _ = _site(url, ["set", "ao-tu", "--tan", "0.8", "--tan-measured-at", when])
    assert code == 0 and f"TAN 0.8 mg/L (tested {when}, too old: rules ignore it)" in out
    s = get_site(open_registry(url), "ao-tu")
    assert (s.tan_mg_l, s.tan_measured_ms) == (0.8, int(ten_days_ago.timestamp()) * 1000)

    assert _site(url, ["set", "ao-tu", "--tan", "1.2"])[0] == 0  # taken now
    code, out, _ = _site(url, ["show", "ao-tu"])
    assert code == 0 and "TAN 1.2 mg/L (tested " in out and "too old" not in out and "profile fish_pond" in out
    assert _site(url, ["set", "ao-tu", "--clear", "tan"])[0] == 0
    s = get_site(open_registry(url), "ao-tu")
    assert (s.tan_mg_l, s.tan_measured_ms) == (None, None)


@pytest.mark.parametrize(("args", "message"), [
    (["set", "ruong-ba", "--stage", "boot"], "stage 'boot' is not a stage of profile 'rice_paddy'; known: seedbed, "
                                             "establishment, tillering, panicle_init, booting, flowering"),
    (["set", "ao-tu", "--stage", "flowering"], "profile 'fish_pond' has no growth stages"),
    (["set", "ruong-ba", "--tan", "0.8"], "profile 'rice_paddy' has no rule that uses a TAN test"),
    (["set", "ao-tu", "--tan", "-1"], "TAN -1.0 mg/L must be a number within 0..100"),
    (["set", "ao-tu", "--tan", "nan"], "must be a number"),
    (["set", "ao-tu", "--tan", "1", "--tan-measured-at", "2026-11-20T07:30"], "needs its UTC offset"),
    (["set", "ao-tu", "--tan", "1", "--tan-measured-at", "yesterday"], "is not an ISO 8601 time"),
    (["set", "ao-tu", "--tan", "1", "--tan-measured-at", "2099-01-01T00:00Z"], "in the future"),
    (["set", "ao-tu", "--tan-measured-at", "2026-11-20T07:30+07:00"], "--tan-measured-at needs --tan"),
    (["set", "trai-ga", "--outdoor-node", "phao-1"], "site 'trai-ga' has no node 'phao-1' (it is a node of ao-tu)"),
    (["set", "trai-ga", "--outdoor-node", "Ngoai Troi"], "is not a slug"),
    (["set", "ruong-ba", "--stage", "tillering", "--clear", "stage"], "contradict"),
    (["set", "ruong-ba", "--clear", "everything"], "must be one of stage, tan, outdoor-node"),
    (["set", "ruong-ba"], "nothing to set"),
    (["set", "nowhere", "--stage", "tillering"], "no site 'nowhere'"),
    (["show", "nowhere"], "no site 'nowhere'"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(url: str, args: list[str], message: str) -> None:
    code, out, err = _site(url, args)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    s = get_site(open_registry(url), "ruong-ba")
    assert s.stage is None  # nothing half-applied


def test_the_installed_command_prints_no_traceback(url: str, ruongso_cmd: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "RUONGSO_REGISTRY_URL": url}
    done = subprocess.run([*ruongso_cmd, "site", "set", "trai-ga", "--outdoor-node", "phao-1"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == "error: site 'trai-ga' has no node 'phao-1' (it is a node of ao-tu); the outdoor reference " \
                          "node must be one of the site's own nodes\n"
    ok = subprocess.run([*ruongso_cmd, "site", "set", "trai-ga", "--outdoor-node", "ngoai-troi"], env=env,
                        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout == "site trai-ga: stage -, TAN -, outdoor node ngoai-troi\n"
