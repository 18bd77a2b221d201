"""Where services keep local state when no path is configured: $XDG_STATE_HOME/ruongso/<service>
(default ~/.local/state/ruongso/<service>), never the current directory."""

from __future__ import annotations

import os
from pathlib import Path


def state_root(service: str) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ruongso" / service
