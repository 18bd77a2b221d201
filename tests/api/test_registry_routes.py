"""Sites, contacts, overrides and node provisioning through the API (registry behind it)."""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient

from registry import credentials
from registry.db import open_registry
from registry.nodes import get_node
from ruongso.profiles import measured_quantities
from tests.api.conftest import Seeded


def test_post_nodes_returns_a_node_yaml_whose_password_matches_the_stored_hash(client: TestClient,
                                                                                seeded: Seeded) -> None:
    r = client.post("/nodes", headers=seeded.auth("technician"),
                    json={"site": "farm-b", "node": "n02", "interval_s": 30, "firmware": "1.2.0"})

    assert r.status_code == 201, r.text
    body = r.json()
    config = yaml.safe_load(body["node_yaml"])
    assert config == body["config"]
    assert (config["site"], config["node"], config["username"], config["interval_s"]) == ("farm-b", "n02",
                                                                                          "farm-b.n02", 30)
    assert config["sensors"] == measured_quantities("fish_pond")
    assert config["mqtt_url"].startswith("mqtt://") and "@" not in config["mqtt_url"]
    conn = open_registry(seeded.registry_url)
    stored = get_node(conn, "farm-b", "n02")
    assert credentials.verify_password(config["password"], stored.credential_hash)
    assert config["password"] not in stored.credential_hash
    assert body["broker_synced"] is False  # no Mosquitto files configured for this app


def test_a_node_slug_cannot_be_provisioned_twice(client: TestClient, seeded: Seeded) -> None:
    r = client.post("/nodes", headers=seeded.auth("admin"), json={"site": "farm-a", "node": "n01"})
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_provisioning_checks_site_and_sensors(client: TestClient, seeded: Seeded) -> None:
    auth = seeded.auth("admin")
    assert client.post("/nodes", headers=auth, json={"site": "nowhere", "node": "n1"}).status_code == 404
    r = client.post("/nodes", headers=auth, json={"site": "farm-a", "node": "n9", "sensors": ["flux_capacitor"]})
    assert r.status_code == 422
    assert client.post("/nodes", headers=auth, json={"site": "farm-a", "node": "alerts"}).status_code == 422


def test_revoke_marks_the_node_revoked(client: TestClient, seeded: Seeded) -> None:
    r = client.post("/sites/farm-a/nodes/n02/revoke", headers=seeded.auth("technician"))
    assert r.status_code == 200 and r.json()["node"]["state"] == "revoked"
    again = client.post("/sites/farm-a/nodes/n02/revoke", headers=seeded.auth("technician"))
    assert again.status_code == 409


def test_overrides_are_set_listed_and_deleted(client: TestClient, seeded: Seeded) -> None:
    auth = seeded.auth("officer")
    r = client.put("/sites/farm-b/overrides/dissolved_oxygen", headers=auth,
                   json={"warn_low": 3.5, "crit_low": 2.5, "note": "cá rô phi"})
    assert r.status_code == 200, r.text
    listed = client.get("/sites/farm-b/overrides", headers=seeded.auth("farmer_b")).json()
    assert [(o["quantity"], o["warn_low"], o["crit_low"]) for o in listed] == [("dissolved_oxygen", 3.5, 2.5)]
    bad = client.put("/sites/farm-b/overrides/dissolved_oxygen", headers=auth, json={"warn_low": 2, "crit_low": 3})
    assert bad.status_code == 422
    assert client.delete("/sites/farm-b/overrides/dissolved_oxygen", headers=auth).status_code == 204
    assert client.get("/sites/farm-b/overrides", headers=auth).json() == []


def test_contacts_are_added_to_a_site(client: TestClient, seeded: Seeded) -> None:
    r = client.post("/sites/farm-a/contacts", headers=seeded.auth("admin"), json={
        "name": "Nguyễn Văn Ba", "role": "farmer", "phone": "+84912345678", "zalo_id": "z123",
        "channels": ["zalo", "sms"], "owner": True,
    })
    assert r.status_code == 201, r.text
    listed = client.get("/sites/farm-a/contacts", headers=seeded.auth("technician")).json()
    assert [(c["name"], c["channels"], c["owner"], c["language"]) for c in listed] == [
        ("Nguyễn Văn Ba", ["zalo", "sms"], True, "vi")
    ]
