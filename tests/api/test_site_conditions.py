"""PATCH /sites/{site}: the stage, TAN test and outdoor reference node rules read; who may set what."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.db import now_ms
from registry.sites import TAN_MAX_AGE_MS
from tests.api.conftest import Seeded

CONDITIONS = ("stage", "tan_mg_l", "tan_measured_ms", "tan_fresh", "outdoor_node")


def _conditions(body: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(body[k] for k in CONDITIONS)


def test_a_technician_sets_and_clears_stage_and_outdoor_node(client: TestClient, seeded: Seeded) -> None:
    auth = seeded.auth("technician")
    assert _conditions(client.get("/sites/farm-a", headers=auth).json()) == (None, None, None, False, None)

    r = client.patch("/sites/farm-a", headers=auth, json={"stage": "flowering", "outdoor_node": "n02"})

    assert r.status_code == 200, r.text
    assert _conditions(r.json()) == ("flowering", None, None, False, "n02")
    listed = client.get("/sites", headers=seeded.auth("farmer_a")).json()
    assert [(s["slug"], s["stage"], s["outdoor_node"]) for s in listed] == [("farm-a", "flowering", "n02")]
    # A field left out stays; null clears.
    r = client.patch("/sites/farm-a", headers=seeded.auth("admin"), json={"stage": None})
    assert _conditions(r.json()) == (None, None, None, False, "n02")
    r = client.patch("/sites/farm-a", headers=auth, json={"outdoor_node": None})
    assert r.json()["outdoor_node"] is None


def test_a_tan_test_is_stored_with_its_time_and_judged_fresh_or_stale(client: TestClient, seeded: Seeded) -> None:
    auth = seeded.auth("farmer_b")  # the pond's own farmer ran the kit
    before = now_ms()
    r = client.patch("/sites/farm-b", headers=auth, json={"tan_mg_l": 0.8})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["tan_mg_l"], body["tan_fresh"]) == (0.8, True) and before <= body["tan_measured_ms"] <= now_ms()

    old = now_ms() - TAN_MAX_AGE_MS - 3_600_000
    r = client.patch("/sites/farm-b", headers=auth, json={"tan_mg_l": 1.5, "tan_measured_ms": old})
    assert _conditions(r.json()) == (None, 1.5, old, False, None)
    r = client.patch("/sites/farm-b", headers=auth, json={"tan_mg_l": None})
    assert _conditions(r.json()) == (None, None, None, False, None)


@pytest.mark.parametrize(("site", "body", "message"), [
    ("farm-a", {"stage": "fruiting"}, "known: seedbed, establishment, tillering"),
    ("farm-a", {"stage": "ripe"}, "body.stage"),
    ("farm-b", {"stage": "flowering"}, "has no growth stages"),
    ("farm-a", {"tan_mg_l": 0.5}, "no rule that uses a TAN test"),
    ("farm-b", {"tan_mg_l": -0.1}, "body.tan_mg_l"),
    ("farm-b", {"tan_measured_ms": 1_700_000_000_000}, "needs the TAN value"),
    ("farm-b", {"tan_mg_l": None, "tan_measured_ms": 1_700_000_000_000}, "needs the TAN value"),
    ("farm-b", {"tan_mg_l": 0.5, "tan_measured_ms": 4_000_000_000_000}, "in the future"),
    ("farm-c", {"outdoor_node": "n01"}, "has no node 'n01' (it is a node of farm-a, farm-b)"),
    ("farm-a", {"outdoor_node": "Bad Slug"}, "body.outdoor_node"),
    ("farm-a", {"stag": "flowering"}, "body.stag"),
    ("farm-a", {}, "nothing to change"),
])
def test_bad_input_is_a_422_that_says_why(client: TestClient, seeded: Seeded, site: str, body: dict[str, Any],
                                          message: str) -> None:
    r = client.patch(f"/sites/{site}", headers=seeded.auth("admin"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input" and message in r.json()["message"]


def test_a_revoked_node_cannot_be_the_outdoor_reference(client: TestClient, seeded: Seeded) -> None:
    auth = seeded.auth("technician")
    assert client.post("/sites/farm-a/nodes/n02/revoke", headers=auth).status_code == 200
    r = client.patch("/sites/farm-a", headers=auth, json={"outdoor_node": "n02"})
    assert r.status_code == 422 and "revoked" in r.json()["message"]


@pytest.mark.parametrize(("who", "site", "body", "status"), [
    ("farmer_a", "farm-a", {"stage": "tillering"}, 200),
    ("farmer_b", "farm-b", {"tan_mg_l": 0.4, "tan_measured_ms": 1_764_460_800_000}, 200),
    ("farmer_a", "farm-a", {"outdoor_node": "n02"}, 403),  # installation work: technician
    ("farmer_a", "farm-b", {"tan_mg_l": 0.4}, 403),  # not their pond
    ("farmer_a", "farm-zz", {"stage": "tillering"}, 403),
    ("officer", "farm-a", {"stage": "tillering"}, 403),
    ("revoked", "farm-a", {"stage": "tillering"}, 401),
    ("admin", "farm-zz", {"stage": "tillering"}, 404),
])
def test_who_may_set_what(client: TestClient, seeded: Seeded, who: str, site: str, body: dict[str, Any],
                          status: int) -> None:
    r = client.patch(f"/sites/{site}", headers=seeded.auth(who), json=body)
    assert r.status_code == status, r.text
    if status != 200:
        assert r.json()["error"] and client.get("/sites/farm-a", headers=seeded.auth("admin")).json()["stage"] is None


def test_the_openapi_schema_lists_the_stages_and_the_patch(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "patch" in spec["paths"]["/sites/{site}"]
    stages = spec["components"]["schemas"]["Stage"]["enum"]
    assert {"tillering", "flowering", "fruiting"} <= set(stages) and len(stages) == len(set(stages))
    assert set(CONDITIONS) <= set(spec["components"]["schemas"]["SiteOut"]["properties"])
