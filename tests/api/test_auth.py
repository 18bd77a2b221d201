"""Bearer tokens and roles: 401 without a valid token, 403 outside the role or a farmer's sites."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Seeded


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    r = client.get("/sites")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {"error": "unauthorized", "message": "send an API token: Authorization: Bearer <token>"}


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Basic dXNlcjpwdw==", "bearer rs_x"])
def test_unknown_or_malformed_tokens_are_401(client: TestClient, header: str) -> None:
    r = client.get("/sites", headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_a_revoked_token_is_401(client: TestClient, seeded: Seeded) -> None:
    r = client.get("/sites", headers=seeded.auth("revoked"))
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def test_a_farmer_sees_only_their_own_sites(client: TestClient, seeded: Seeded) -> None:
    r = client.get("/sites", headers=seeded.auth("farmer_a"))
    assert [s["slug"] for s in r.json()] == ["farm-a"]
    assert client.get("/sites", headers=seeded.auth("officer")).json()[2]["slug"] == "farm-c"


@pytest.mark.parametrize("path", [
    "/sites/farm-b", "/sites/farm-b/nodes", "/sites/farm-b/readings/latest", "/sites/farm-b/readings",
    "/sites/farm-b/overrides", "/sites/farm-b/silences", "/alerts?site=farm-b", "/fleet?site=farm-b",
    "/sites/does-not-exist/readings/latest",
])
def test_a_farmer_asking_for_another_farmers_site_gets_403(client: TestClient, seeded: Seeded, path: str) -> None:
    r = client.get(path, headers=seeded.auth("farmer_a"))
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden"


def test_other_roles_get_404_for_a_site_that_does_not_exist(client: TestClient, seeded: Seeded) -> None:
    r = client.get("/sites/does-not-exist/readings/latest", headers=seeded.auth("officer"))
    assert r.status_code == 404 and r.json()["error"] == "not_found"


@pytest.mark.parametrize(("who", "status"), [("admin", 201), ("technician", 201), ("officer", 403),
                                             ("farmer_a", 403)])
def test_only_admins_and_technicians_provision_nodes(client: TestClient, seeded: Seeded, who: str,
                                                     status: int) -> None:
    r = client.post("/nodes", headers=seeded.auth(who), json={"site": "farm-a", "node": f"new-{who[:5]}"})
    assert r.status_code == status, r.text


def test_only_admins_create_sites(client: TestClient, seeded: Seeded) -> None:
    body = {"slug": "farm-d", "name": "Vườn vải", "profile": "lychee_orchard"}
    assert client.post("/sites", headers=seeded.auth("officer"), json=body).status_code == 403
    assert client.post("/sites", headers=seeded.auth("admin"), json=body).status_code == 201


def test_me_tells_the_token_its_role_and_sites(client: TestClient, seeded: Seeded) -> None:
    me = client.get("/me", headers=seeded.auth("farmer_b")).json()
    assert (me["role"], me["sites"], me["name"]) == ("farmer", ["farm-b"], "ba-tu")


def test_an_admin_creates_and_revokes_tokens_through_the_api(client: TestClient, seeded: Seeded) -> None:
    r = client.post("/tokens", headers=seeded.auth("admin"), json={"name": "bà Năm", "role": "farmer",
                                                                    "sites": ["farm-c"]})
    assert r.status_code == 201, r.text
    made = r.json()
    new = {"Authorization": f"Bearer {made['token']}"}
    assert [s["slug"] for s in client.get("/sites", headers=new).json()] == ["farm-c"]
    listed = client.get("/tokens", headers=seeded.auth("admin")).json()
    assert all("token" not in t for t in listed) and made["id"] in [t["id"] for t in listed]
    assert client.delete(f"/tokens/{made['id']}", headers=seeded.auth("admin")).json()["revoked_ms"] is not None
    assert client.get("/sites", headers=new).status_code == 401


def test_only_admins_manage_tokens(client: TestClient, seeded: Seeded) -> None:
    body = {"name": "x", "role": "admin"}
    assert client.post("/tokens", headers=seeded.auth("officer"), json=body).status_code == 403
    assert client.get("/tokens", headers=seeded.auth("technician")).status_code == 403
    bad = client.post("/tokens", headers=seeded.auth("admin"), json={"name": "x", "role": "farmer"})
    assert bad.status_code == 422 and "farmer token needs" in bad.json()["message"]
