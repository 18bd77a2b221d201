"""The API of `ruongso demo`: a throwaway registry of the simulated farm and a one-run admin token.

The registry is a SQLite file in the run folder, filled from the simulator's `--manifest` through the
registry's own functions (as `ruongso site add` / `ruongso node add` would), so `/sites`, `/fleet` and
the readings routes know the simulated sites. The admin token is random, made for this run only and
dies with the run folder; nothing here is a default password.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.credentials import hash_password, new_password
from registry.db import RegistryError, open_registry
from registry.nodes import MAX_INTERVAL_S, MIN_INTERVAL_S, add_node
from registry.sites import add_site
from registry.tokens import create_token

TOKEN_NAME = "demo-admin"
# Settings the API would otherwise take from the user's environment: a demo must never rewrite a real
# broker's password file, reload a real Mosquitto or open a real registry.
_PRIVATE_ENV_PREFIX = "RUONGSO_"


@dataclass(frozen=True)
class DemoApi:
    url: str
    token: str
    registry_url: str

    def example_site(self, manifest: dict[str, Any]) -> str:
        sites = manifest.get("sites") or [{}]
        return str(sites[0].get("site", "SITE"))

    def curl_lines(self, site: str) -> list[str]:
        auth = f"-H 'Authorization: Bearer {self.token}'"
        return [
            f"curl -s {auth} {self.url}/sites/{site}/readings/latest",
            f"curl -s {auth} {self.url}/alerts",
            f"curl -s {auth} {self.url}/fleet",
        ]


def create_registry(path: Path) -> tuple[str, str]:
    """A fresh registry file and its admin token's secret (the registry keeps only its hash)."""
    url = f"sqlite:///{path.resolve()}"
    conn = open_registry(url)
    try:
        _, secret = create_token(conn, TOKEN_NAME, "admin")
    finally:
        conn.close()
    return url, secret


def register_farm(registry_url: str, manifest: dict[str, Any], interval_s: float) -> int:
    """Sites and nodes of the simulator's manifest into the registry; returns how many nodes."""
    every = min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, round(interval_s)))
    conn = open_registry(registry_url)
    added = 0
    try:
        for s in manifest.get("sites", []):
            add_site(conn, s["site"], s.get("name_vi") or s["site"], s["profile"], lat=s.get("lat"), lon=s.get("lon"))
            for n in s.get("nodes", []):
                # The demo's broker is anonymous, so this credential is never used; a node still needs one.
                add_node(conn, s["site"], n["node"], hash_password(new_password()), n.get("quantities"), every)
                added += 1
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"simulator manifest lacks {exc}") from None
    finally:
        conn.close()
    return added


def read_manifest(path: Path, alive: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The simulator writes its manifest before its first message; wait for a whole one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "sites" in data:
                return data
        except (OSError, ValueError):
            pass  # not there yet, or caught half written
        if not alive():
            break
        time.sleep(0.1)
    raise RegistryError(f"the simulator wrote no manifest at {path}")


def api_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_ENV_PREFIX)}


def answers_health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
