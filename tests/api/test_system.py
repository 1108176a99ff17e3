"""Health, the OpenAPI document, security headers, the access log."""

import json
import logging

from chalicelib.api.http import ROUTES
from tests.api.test_openapi import resolved


def test_health_answers_ok_without_a_token(api):
    response = api.call("GET", "/health")
    assert response.status_code == 200 and response.data["status"] == "ok"


def test_the_openapi_document_lists_exactly_the_routes_of_the_app(api):
    import app

    document = api.call("GET", "/openapi.json").data
    documented = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    # The console's pages and assets are keyport's own client, not the API: they have a page matrix of their own.
    served = {
        (path, method)
        for path, methods in app.app.routes.items()
        for method in methods
        if path != "/console" and not path.startswith("/console/")
    }
    assert document["openapi"].startswith("3.1")
    assert documented == served


def test_every_route_has_one_spec_and_protected_routes_name_their_security(api):
    document = api.call("GET", "/openapi.json").data
    assert len({(spec.path, spec.method) for spec in ROUTES}) == len(ROUTES)
    for spec in ROUTES:
        operation = document["paths"][spec.path][spec.method.lower()]
        assert operation["security"] == ([] if spec.public else [{"bearer": []}])
        if spec.body is not None and not spec.body_shown and not spec.body.get("anyOf"):
            # the body the edge checks is the one published (under its component name)
            assert resolved(document, operation["requestBody"]["content"]["application/json"]["schema"]) == spec.body
        if not spec.public:
            assert "401" in operation["responses"]


def test_responses_carry_security_headers(api, login_as):
    response = api.call("GET", "/me", token=login_as("VIEWER"))
    headers = {name.lower(): value for name, value in response.headers.items()}
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-request-id"]


def test_each_request_writes_one_json_access_line_with_route_status_and_actor(api, login_as, caplog):
    token = login_as("VIEWER")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="keyport.access"):
        api.call("GET", "/me", token=token)
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "keyport.access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line["route"], line["status"], line["method"]) == ("/me", 200, "GET")
    assert line["actor_id"].startswith("usr_") and line["duration_ms"] >= 0 and line["request_id"]
    assert token not in caplog.text


def test_the_openapi_document_names_every_error_code_and_the_wait_of_every_429(api):
    from chalicelib.errors import domain_errors

    document = api.call("GET", "/openapi.json").data
    code = document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert {error.code for error in domain_errors()} <= set(code["enum"])
    assert {"grant_refused", "sites_refused", "invitation_beyond_reach", "account_locked"} <= set(code["enum"])
    throttled = [
        operation
        for operations in document["paths"].values()
        for operation in operations.values()
        if "429" in operation["responses"]
    ]
    assert throttled and all("Retry-After" in operation["responses"]["429"]["headers"] for operation in throttled)
