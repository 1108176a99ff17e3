"""Every route meets malformed, mistyped, incomplete, unknown, overlong and oversized input calmly."""
import json

import pytest

import app  # noqa: F401  (registers every route before the parameters below are built)
from chalicelib.api.http import ROUTES

BODY_ROUTES = [spec for spec in ROUTES if spec.body is not None]
WRONG_TYPES = {"string": 12345, "boolean": "yes", "array": "not-a-list", "object": ["x"], "integer": "one"}


def route_id(spec):
    return f"{spec.method} {spec.path}"


def concrete(path):
    return path.replace("{", "x").replace("}", "")


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.body[:300])
    assert set(response.data) == {"error"} and response.data["error"]["message"]
    if code:
        assert response.data["error"]["code"] == code


@pytest.fixture
def send(api, login_as):
    def _send(spec, raw):
        token = None if spec.public else login_as("OPERATOR")
        return api.call(spec.method, concrete(spec.path), raw=raw, token=token)

    return _send


@pytest.mark.parametrize("spec", ROUTES, ids=route_id)
def test_a_body_over_the_limit_answers_413(send, spec):
    limit = spec.max_body or 1024 * 1024  # 1 MB, device imports 6 MB
    assert_error(send(spec, json.dumps({"name": "x" * limit})), 413, "body_too_large")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_malformed_json_answers_400(send, spec):
    assert_error(send(spec, '{"email": "a@b.c", '), 400, "invalid_json")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_a_body_that_is_not_an_object_answers_422(send, spec):
    assert_error(send(spec, "[1, 2]"), 422, "validation_failed")


@pytest.mark.parametrize("spec", [s for s in BODY_ROUTES if s.body.get("required")], ids=route_id)
def test_missing_required_fields_answer_422_naming_them(send, spec):
    response = send(spec, "{}")
    assert_error(response, 422, "validation_failed")
    details = response.data["error"]["details"]
    assert {problem["field"] for problem in details if problem["field"]} == set(spec.body["required"])
    for branch_choice in [problem for problem in details if not problem["field"]]:  # "serials or file"
        assert spec.body.get("anyOf") and branch_choice["problem"].startswith("needs ")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_unknown_fields_answer_422(send, spec):
    response = send(spec, json.dumps({"surprise_field": 1}))
    assert_error(response, 422, "validation_failed")
    assert "surprise_field" in [problem["field"] for problem in response.data["error"]["details"]]


@pytest.mark.parametrize("spec, field", [(s, f) for s in BODY_ROUTES for f in s.body["properties"]],
                         ids=lambda v: v if isinstance(v, str) else route_id(v))
def test_a_field_of_the_wrong_type_answers_422(send, spec, field):
    expected = spec.body["properties"][field].get("type", "string")
    response = send(spec, json.dumps({field: WRONG_TYPES[expected]}))
    assert_error(response, 422, "validation_failed")
    assert field in [problem["field"] for problem in response.data["error"]["details"]]


@pytest.mark.parametrize("spec, field", [(s, f) for s in BODY_ROUTES for f, schema in s.body["properties"].items()
                                         if "maxLength" in schema],
                         ids=lambda v: v if isinstance(v, str) else route_id(v))
def test_an_overlong_string_answers_422_without_echoing_it(send, spec, field):
    overlong = "y" * (spec.body["properties"][field]["maxLength"] + 1)
    response = send(spec, json.dumps({field: overlong}))
    assert_error(response, 422, "validation_failed")
    assert overlong.encode() not in response.body


def test_every_string_field_of_every_body_has_a_maximum_length():
    for spec in BODY_ROUTES:
        for field, schema in spec.body["properties"].items():
            if schema.get("type") == "string":
                assert "maxLength" in schema or "enum" in schema, (route_id(spec), field)


def test_a_wrong_content_type_answers_415_in_the_error_shape(api):
    response = api.call("POST", "/auth/login", raw="email=a", headers={"Content-Type": "application/xml"})
    assert_error(response, 415, "unsupported_media_type")


def test_an_unsupported_method_answers_405_in_the_error_shape(api):
    response = api.call("DELETE", "/me")
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_a_50000_deep_json_body_answers_400(send, spec):
    assert_error(send(spec, "[" * 50_000 + "]" * 50_000), 400, "invalid_json")


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=route_id)
def test_a_body_nested_deeper_than_any_request_needs_answers_400_before_validation(send, spec):
    field = next(iter(spec.body["properties"]))
    assert_error(send(spec, json.dumps({field: [{"a": 1}]}).replace("[", "[" * 200).replace("]", "]" * 200)),
                 400, "invalid_json")


LIST_ROUTES = [spec for spec in ROUTES if spec.method == "GET" and "cursor" in (spec.query or {})
               and not spec.portal and "{" not in spec.path]


def old_style_cursor(key):
    """A cursor in the readable form once handed out: base64 JSON of a start key."""
    import base64

    return base64.urlsafe_b64encode(json.dumps({"q": 0, "k": key}).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [old_style_cursor({"x": {"S": "y"}}), old_style_cursor(None),
                                    old_style_cursor({"org_id": {"S": "root"}, "serial": {"N": "1"}}),
                                    "A" * 64], ids=["unknown-key", "no-key", "wrong-types", "random"])
@pytest.mark.parametrize("spec", LIST_ROUTES, ids=route_id)
def test_a_forged_cursor_answers_400_on_every_list_route(api, login_as, spec, cursor):
    response = api.call("GET", f"{spec.path}?cursor={cursor}", token=login_as("OPERATOR"))
    assert_error(response, 400, "invalid_cursor")


def test_a_recipient_jwk_nested_past_the_parsers_stack_answers_422(api, login_as):
    deep = "[" * 1999 + "]" * 1999
    token = login_as("OPERATOR")
    response = api.call("GET", f"/devices/keys?format=jwe&recipient_jwk={deep}", token=token)
    assert_error(response, 422, "recipient_key_invalid")
    response = api.call("POST", "/exports", {"format": "jwe", "recipient_jwk": deep}, token=token)
    assert_error(response, 422)
