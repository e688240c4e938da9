"""schemathesis against the OpenAPI document: generated requests (signed in with an API token)
never get a 5xx. Bounded: a few examples per operation, well under a minute."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from runtime.auth.users import UserStore

from .conftest import ROOT  # noqa: F401  (the demo database fixtures)

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(app, engine):
    token = UserStore(engine).create_token("admin", "schemathesis")
    from fastapi.testclient import TestClient
    assert TestClient(app).get("/records/company?limit=1", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    loaded.auth_headers = {"Authorization": f"Bearer {token}"}
    return loaded


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, api_schema):
    response = case.call(headers=api_schema.auth_headers)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
