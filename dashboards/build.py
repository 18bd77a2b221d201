"""Write every board's JSON where Grafana's provisioning reads it (deploy/grafana/dashboards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from dashboards.boards import all_boards
from dashboards.model import Dashboard

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
OUT_DIR: Final = REPO_ROOT / "deploy" / "grafana" / "dashboards"


def render_json(board: Dashboard) -> str:
    return json.dumps(board.to_json(), indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name → JSON text of every board."""
    out: dict[str, str] = {}
    for board in all_boards():
        name = f"{board.uid}.json"
        if name in out:
            raise ValueError(f"two boards share uid {board.uid!r}")
        out[name] = render_json(board)
    return out


def build(out_dir: Path = OUT_DIR) -> list[Path]:
    """Regenerate the JSON files; remove our own files of boards that no longer exist."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = rendered()
    for stale in out_dir.glob("ruongso-*.json"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_files(out_dir: Path = OUT_DIR) -> list[str]:
    """Names of committed files that differ from what `build` would write (missing, changed or extra)."""
    files = rendered()
    problems = [n for n, text in files.items()
                if not (out_dir / n).exists() or (out_dir / n).read_text(encoding="utf-8") != text]
    problems += [p.name for p in out_dir.glob("ruongso-*.json") if p.name not in files]
    return sorted(problems)
