"""One-tap acknowledge links: a farmer acknowledges from the message, a forged or old link does nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from registry import alert_actions
from registry.db import open_registry
from ruongso.ack_tokens import issue
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from tests.api.conftest import Seeded, api_settings

SECRET = "a-test-secret-of-enough-length-0123"


@pytest.fixture
def links(seeded: Seeded, influxd: Influxd, influx: InfluxClient, broker: Mosquitto) -> Iterator[TestClient]:
    app = create_app(api_settings(seeded, influxd, influx, broker, ack_secret=SECRET), influx=influx)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _acked(seeded: Seeded, alert_id: str) -> dict:
    conn = open_registry(seeded.registry_url)
    try:
        return {k: (a.acked_by) for k, a in alert_actions.acks_for(conn, [alert_id]).items()}
    finally:
        conn.close()


def test_opening_the_link_only_asks_and_the_button_acknowledges(links: TestClient, seeded: Seeded) -> None:
    token = issue(SECRET, "a-9f2c41", "farm-b", "ba-tu", ttl_s=3600)
    page = links.get(f"/a/{token}")
    assert page.status_code == 200 and "xác nhận" in page.text and 'method="post"' in page.text
    assert _acked(seeded, "a-9f2c41") == {}  # a link preview must not acknowledge
    done = links.post(f"/a/{token}")
    assert done.status_code == 200 and "Đã xác nhận" in done.text
    assert _acked(seeded, "a-9f2c41") == {"a-9f2c41": "ack-link:ba-tu"}


def test_a_forged_tampered_or_expired_link_is_refused_and_acknowledges_nothing(
    links: TestClient, seeded: Seeded
) -> None:
    forged = issue("another-secret-of-enough-length-99", "a-1", "farm-b", "ba-tu", ttl_s=3600)
    good = issue(SECRET, "a-2", "farm-b", "ba-tu", ttl_s=3600)
    body, sig = good.split(".")
    tampered = f"{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    expired = issue(SECRET, "a-3", "farm-b", "ba-tu", ttl_s=60, now_s=time.time() - 3600)
    assert links.post(f"/a/{forged}").status_code == 403
    assert links.post(f"/a/{tampered}").status_code == 403
    assert links.post(f"/a/{expired}").status_code == 410
    assert links.post("/a/not-a-token").status_code in (403, 422)
    for alert in ("a-1", "a-2", "a-3"):
        assert _acked(seeded, alert) == {}


def test_without_a_configured_secret_links_answer_404_not_a_crash(client: TestClient) -> None:
    token = issue(SECRET, "a-4", "farm-b", "ba-tu", ttl_s=3600)
    assert client.post(f"/a/{token}").status_code == 404
