"""A property-based run over the OpenAPI schema: whatever a client sends, the API answers < 500.

Schemathesis-style, with Hypothesis directly: for every operation the schema declares, draw path and query
parameters and JSON bodies from the schema (valid values, near misses and arbitrary text), with an admin,
a farmer or no token, against a registry and a real InfluxDB holding a little data.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from tests.api.conftest import MINUTE_MS, NOW_MS, Seeded, api_settings, write_readings

KNOWN = ["farm-a", "farm-b", "n01", "n02", "air_temp", "VN-HD-TK-01", "1", "a-1"]
# Path parameters that exist in the seeded registry, so handlers run past their 404s.
EXISTING: dict[str, list[Any]] = {
    "site": ["farm-a", "farm-b"], "node": ["n01", "n02"], "code": ["VN-HD-TK-01"], "alert_id": ["a-1"],
    "silence_id": [1], "quantity": ["air_temp", "dissolved_oxygen"],
}
TEXT = st.text(max_size=40)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        schema = {**schema, **(options[0] if options else {})}
        schema.pop("anyOf", None)
    return schema


def value_for(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    schema = _resolve(schema, components)
    kind = schema.get("type")
    valid: list[st.SearchStrategy[Any]] = []
    if "enum" in schema:
        valid.append(st.sampled_from(schema["enum"]))
    elif kind == "integer":
        valid.append(st.integers(min_value=-(2**70), max_value=2**70))
        valid.append(st.integers(min_value=0, max_value=4_200_000_000_000))
    elif kind == "number":
        valid.append(st.floats(allow_nan=False, allow_infinity=False) | st.integers())
    elif kind == "boolean":
        valid.append(st.booleans())
    elif kind == "array" and depth < 2:
        valid.append(st.lists(value_for(schema.get("items", {}), components, depth + 1), max_size=4))
    elif kind == "object" and depth < 2:
        props = schema.get("properties", {})
        valid.append(st.fixed_dictionaries(
            {}, optional={k: value_for(v, components, depth + 1) for k, v in props.items()}
        ))
    elif kind == "string":
        if "pattern" in schema:
            valid.append(st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) <= 64))
        if schema.get("format") == "date-time":
            valid.append(st.datetimes().map(lambda d: d.isoformat()))
        valid.append(st.sampled_from(["1h", "24h", "10s", "auto", "7d", "-1h", "0"]))
    garbage = st.sampled_from(KNOWN) | TEXT
    if not valid:
        return garbage
    # Three draws in four from the schema, so most requests get past validation into the handlers.
    schema_values = st.one_of(valid)
    return st.one_of(schema_values, schema_values, schema_values, garbage)


def _operations() -> list[tuple[str, str]]:
    from api.settings import ApiSettings

    spec = create_app(ApiSettings(registry_url="sqlite:///:memory:")).openapi()
    return [(method, path) for path, item in spec["paths"].items() for method in item
            if path not in ("/metrics",)]


@pytest.fixture
def fuzz_client(seeded: Seeded, influxd: Influxd, influx: InfluxClient, broker: Mosquitto) -> TestClient:
    write_readings(influx, "farm-a", "n01", {"air_temp": 20.0, "water_level": 3.0}, NOW_MS - 60 * MINUTE_MS, 60,
                   battery_v=3.8, rssi=-80)
    influx.write([
        f'alert,site=farm-a,node=n01,rule=r,kind=sensor,audience=technician,severity=warning,state=firing '
        f'id="a-1",started={NOW_MS}i {NOW_MS}'
    ])
    app = create_app(api_settings(seeded, influxd, influx, broker), influx=influx)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("method", "path"), _operations())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(data=st.data())
def test_no_request_makes_the_api_fail_with_5xx(fuzz_client: TestClient, seeded: Seeded, method: str, path: str,
                                                data: st.DataObject) -> None:
    spec = fuzz_client.app.openapi()  # type: ignore[attr-defined]
    components = spec.get("components", {}).get("schemas", {})
    op = spec["paths"][path][method]
    url = path
    query: dict[str, Any] = {}
    for p in op.get("parameters", []):
        if p["in"] == "path":
            existing = st.sampled_from(EXISTING.get(p["name"], KNOWN))
            v = data.draw(existing | existing | value_for(p["schema"], components), label=p["name"])
            url = url.replace("{" + p["name"] + "}", quote(str(v), safe="") or "x")
        elif p["in"] == "query" and data.draw(st.booleans()):
            query[p["name"]] = data.draw(value_for(p["schema"], components), label=p["name"])
    body = None
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = data.draw(value_for(schema, components) | st.none(), label="body")
    who = data.draw(st.sampled_from(["admin", "admin", "technician", "farmer_a", None]), label="token")
    headers = seeded.auth(who) if who else {}

    r = fuzz_client.request(method.upper(), url, params=query, json=body, headers=headers)

    assert r.status_code < 500, f"{method.upper()} {url} {query} {body!r} → {r.status_code} {r.text[:300]}"
    if r.status_code >= 400 and not r.headers.get("content-type", "").startswith("text/html"):
        # The API answers JSON errors; only the acknowledge-link pages, opened in a phone's browser, are HTML.
        assert r.json()["error"], r.text
