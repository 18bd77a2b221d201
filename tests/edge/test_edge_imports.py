"""The edge agent runs on a Pi with only `ruongso[edge]`: stdlib, paho-mqtt, pyyaml, typer, and our
stdlib-only `contract` and `ruongso.{mqtt,logs,durations}` — never numpy, scipy, pydantic, httpx, fastapi."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

EDGE = Path(__file__).resolve().parents[2] / "edge"
ALLOWED = {"paho", "yaml", "typer", "contract", "edge", "ruongso.mqtt", "ruongso.logs", "ruongso.durations",
           # only the `simulated` driver, only with `model: <production type>`: both stdlib + pyyaml
           "simulators.models.node", "ruongso.profiles"}  # fmt: skip
SERVER_ONLY = ("numpy", "scipy", "fastapi", "pydantic", "pydantic_settings", "httpx", "orjson", "uvicorn")


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(name == a or name.startswith(a + ".") for a in ALLOWED) and (top != "ruongso" or name != "ruongso")


def test_every_edge_module_imports_only_the_allowed_packages() -> None:
    bad = {
        f"{p.relative_to(EDGE.parent)}: {n}" for p in EDGE.rglob("*.py") for n in imported_names(p) if not allowed(n)
    }
    assert not bad, bad


BLOCKER = textwrap.dedent(
    f"""
    import importlib, pkgutil, sys

    BLOCKED = {SERVER_ONLY!r}

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: the edge agent must not need it", name=name)
            return None

    sys.meta_path.insert(0, Block())
    import edge
    for mod in pkgutil.walk_packages(edge.__path__, "edge."):
        importlib.import_module(mod.name)
    assert not [m for m in sys.modules if m.split(".")[0] in BLOCKED]
    sys.argv = ["ruongso", "edge", "check", "--help"]
    from ruongso.cli import main
    main()
    """
)


def test_edge_imports_and_its_cli_runs_with_server_packages_unimportable() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--config" in result.stdout and "Read every sensor once" in result.stdout
