"""Upload the boards to a running Grafana through its HTTP API (grafana-client), with a service-account token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.model import DATASOURCE_UID

FOLDER_UID = "ruongso"
FOLDER_TITLE = "Ruộng Số"


class PushError(RuntimeError):
    """Grafana refused or could not be reached; the message says what to fix."""


def load_boards(directory: Path) -> list[dict[str, Any]]:
    files = sorted(directory.glob("ruongso-*.json"))
    if not files:
        raise PushError(f"no board JSON in {directory}: run 'ruongso dashboards build' first")
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def push(url: str, token: str, boards: list[dict[str, Any]], timeout: float = 15.0) -> list[str]:
    """Create the folder if needed and upload (overwrite) every board; returns the uploaded uids."""
    import niquests
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaException

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    try:
        try:
            api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        except GrafanaException as exc:
            if exc.status_code == 404:
                raise PushError(
                    f"Grafana at {url} has no data source with uid {DATASOURCE_UID!r}: provision "
                    "deploy/grafana/provisioning/datasources/influxdb.yaml (or create it with that uid)"
                ) from None
            raise
        try:
            api.folder.get_folder(FOLDER_UID)
        except GrafanaException as exc:
            if exc.status_code != 404:
                raise
            api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        uids = []
        for board in boards:
            api.dashboard.update_dashboard({
                "dashboard": {**board, "id": None},
                "folderUid": FOLDER_UID,
                "overwrite": True,
                "message": "ruongso dashboards push",
            })
            uids.append(board["uid"])
        return uids
    except niquests.exceptions.RequestException as exc:
        raise PushError(f"Grafana at {url} unreachable: {exc}") from None
    except GrafanaException as exc:
        hint = " (is the token a service-account token with the Editor role?)" if exc.status_code in (401, 403) else ""
        raise PushError(f"Grafana at {url} answered {exc.status_code or 'nothing'}: {exc.message}{hint}") from None
